// The consuming side of a streamed call (an async generator method on the agent).
// The request goes out on the first next(). Items arrive in batches; each costs 16 bytes plus
// its attachments against the agent's window (1,024 items, 4 MiB). Credit is returned once half
// a window has been consumed, so a slow consumer holds the producer back instead of buffering.
import type { Reply } from "../link/link.js";
import { decodeValue } from "./codec.js";
import type { CallOptions, StreamLink } from "./call-types.js";

const WINDOW_ITEMS = 1024;
const WINDOW_BYTES = 4 * 1024 * 1024;
const ITEM_OVERHEAD = 16;

interface Start {
  syncing: Promise<void> | undefined;
  fields: Record<string, unknown>;
  blobs: Uint8Array[];
  opts: CallOptions;
}

export class RemoteStream<T> implements AsyncIterableIterator<T> {
  private id = 0;
  private started = false;
  private done = false;
  private readonly queue: { value: T; cost: number }[] = [];
  private head = 0;
  private error: unknown = null;
  private ended = false;
  private waiter: (() => void) | null = null;
  private owedItems = 0;
  private owedBytes = 0;
  private readonly stop = new AbortController();

  constructor(
    private readonly remote: StreamLink<RemoteStream<unknown>>,
    private readonly prepare: () => Start,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  private start(): void {
    this.started = true;
    let s: Start;
    try {
      s = this.prepare();
    } catch (e) {
      this.finish(e);
      return;
    }
    // Our own abort ends the local wait on early close; a caller's signal feeds into it.
    const user = s.opts.signal;
    if (user) {
      if (user.aborted) this.stop.abort(user.reason);
      else user.addEventListener("abort", () => this.stop.abort(user.reason), { once: true });
    }
    const reply = this.remote.send("stream", s.fields, s.blobs, { ...s.opts, signal: this.stop.signal }, (id) => {
      this.id = id;
      this.remote.streams.set(id, this as RemoteStream<unknown>);
    });
    const all: Promise<Reply> = s.syncing ? s.syncing.then(() => reply, (e) => (reply.catch(() => {}), Promise.reject(e))) : reply;
    all.then(
      () => this.finish(null),
      (e) => this.finish(e),
    );
  }

  /** Items from one frame (called by Remote). */
  push(items: unknown[], blobs: Buffer[]): void {
    if (this.done || !Array.isArray(items)) return;
    try {
      for (const raw of items) {
        const used = { bytes: 0 };
        const value = decodeValue(raw, blobs, used) as T;
        this.queue.push({ value, cost: ITEM_OVERHEAD + used.bytes });
      }
    } catch (e) {
      this.remote.cancel(this.id);
      this.finish(e);
      return;
    }
    this.wake();
  }

  private finish(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    if (this.id) this.remote.streams.delete(this.id);
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.done) return { done: true, value: undefined };
    if (!this.started) this.start();
    for (;;) {
      if (this.head < this.queue.length) {
        const item = this.queue[this.head];
        this.queue[this.head++] = undefined as never;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        this.owe(item.cost);
        return { done: false, value: item.value };
      }
      if (this.ended) {
        this.done = true;
        if (this.error) throw this.error;
        return { done: true, value: undefined };
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  private owe(cost: number): void {
    if (this.ended) return;
    this.owedItems += 1;
    this.owedBytes += cost;
    if (this.owedItems >= WINDOW_ITEMS / 2 || this.owedBytes >= WINDOW_BYTES / 2) {
      this.remote.credit(this.id, this.owedItems, this.owedBytes);
      this.owedItems = 0;
      this.owedBytes = 0;
    }
  }

  /** Early close (break, return): the agent cancels the generator, whose finally blocks run. */
  async return(): Promise<IteratorResult<T>> {
    if (!this.done) {
      this.done = true;
      this.finish(null);
      if (this.started) this.stop.abort(); // sends the cancel; the agent runs the generator's finally
    }
    return { done: true, value: undefined };
  }

  async throw(e?: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw e;
  }
}
