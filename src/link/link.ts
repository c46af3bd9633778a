// A request/response link over one byte stream carrying frames (see frame.ts).
// Requests carry ids; a reply with an unknown id (late, after a deadline) is dropped and
// never read as the answer to another request. Events (no id) go to the onEvent handler.
import type { Duplex, Writable, Readable } from "node:stream";
import { encodeFrame, FrameParser, FrameError, DEFAULT_MAX_FRAME, type Frame, type Header } from "./frame.js";

export class LinkClosedError extends Error {
  override name = "LinkClosedError";
}
export class LinkTimeoutError extends Error {
  override name = "LinkTimeoutError";
}
/** An error the far side reported for one request: {type, message, ...}. */
export class LinkRemoteError extends Error {
  override name = "LinkRemoteError";
  constructor(
    readonly type: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface Reply {
  result: any;
  blobs: Buffer[];
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  cleanup?: () => void;
}

export interface LinkOptions {
  maxFrame?: number;
  onEvent?: (frame: Frame) => void;
  onClose?: (err: Error | null) => void;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told the request id before the request is written (to send cancels or match stream events). */
  onId?: (id: number) => void;
}

export class Link {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly parser: FrameParser;
  private readonly out: Writable;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private readonly flush = () => {
    const q = this.queued;
    const bytes = this.queuedBytes;
    this.queued = [];
    this.queuedBytes = 0;
    if (this.closed || !q.length) return;
    if (q.length === 1) this.out.write(q[0]);
    else if (bytes <= 256 * 1024) this.out.write(Buffer.concat(q, bytes));
    else {
      this.out.cork();
      for (const p of q) this.out.write(p);
      this.out.uncork();
    }
  };
  closed = false;
  closeError: Error | null = null;
  onEvent: (frame: Frame) => void;
  onClose: (err: Error | null) => void;

  constructor(input: Readable | Duplex, output?: Writable, opts: LinkOptions = {}) {
    this.out = output ?? (input as Duplex);
    this.parser = new FrameParser(opts.maxFrame ?? DEFAULT_MAX_FRAME);
    this.onEvent = opts.onEvent ?? (() => {});
    this.onClose = opts.onClose ?? (() => {});
    input.on("data", (chunk: Buffer) => this.receive(chunk));
    input.on("end", () => this.shutdown(null));
    input.on("close", () => this.shutdown(null));
    input.on("error", (e: Error) => this.shutdown(e));
    this.out.on("error", (e: Error) => this.shutdown(e));
    (input as Readable).resume?.(); // a stream handed over paused (see startAgent) flows again
  }

  /** Feed bytes already read from the stream (e.g. what followed a handshake line). */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (e) {
      this.shutdown(e as FrameError);
      return;
    }
    for (const f of frames) this.dispatch(f);
  }

  private dispatch(frame: Frame): void {
    const { header } = frame;
    const id = header.i;
    if ((header.k === "res" || header.k === "err") && typeof id === "number") {
      const p = this.pending.get(id);
      if (!p) return; // late reply: its caller gave up
      this.settle(id);
      if (header.k === "res") p.resolve({ result: header.r, blobs: frame.blobs });
      else {
        const e = (header.e ?? {}) as Record<string, unknown>;
        p.reject(new LinkRemoteError(String(e.type ?? "Error"), String(e.message ?? ""), e));
      }
      return;
    }
    this.onEvent(frame);
  }

  private settle(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    p.cleanup?.();
  }

  send(header: Header, blobs: readonly Uint8Array[] = []): boolean {
    if (this.closed) return false;
    const parts = encodeFrame(header, blobs);
    // Frames sent in one turn of the event loop leave together in one write (small ones are
    // joined; big attachments are written as they are, without a copy).
    if (!this.queued.length) process.nextTick(this.flush);
    for (const p of parts) {
      this.queued.push(p);
      this.queuedBytes += p.length;
    }
    return this.queuedBytes < 16 * 1024 * 1024 && !this.out.writableNeedDrain;
  }

  request(op: string, fields: Header = {}, blobs: readonly Uint8Array[] = [], opts: RequestOptions = {}): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closeError ?? new LinkClosedError("link closed"));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const p: Pending = { resolve, reject };
      if (opts.timeoutMs !== undefined) {
        p.timer = setTimeout(() => {
          this.settle(id);
          reject(new LinkTimeoutError(`${op} timed out after ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
      if (opts.signal) {
        const signal = opts.signal;
        if (signal.aborted) {
          reject(signal.reason ?? new Error("aborted"));
          return;
        }
        const onAbort = () => {
          this.settle(id);
          reject(signal.reason ?? new Error("aborted"));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.pending.set(id, p);
      opts.onId?.(id);
      this.send({ ...fields, k: "req", i: id, op }, blobs);
    });
  }

  shutdown(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    const e = err ?? new LinkClosedError("link closed");
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(e);
    }
    try {
      (this.out as Duplex).destroy?.();
    } catch {
      /* already gone */
    }
    this.onClose(err);
  }
}
