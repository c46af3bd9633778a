// A request/response link over one byte stream carrying frames (see frame.ts).
// Requests carry ids; a reply with an unknown id (late, after a deadline) is dropped and
// never read as the answer to another request. Events (no id) go to the onEvent handler.
import type { Duplex, Writable, Readable } from "node:stream";
import { FrameParser, FrameError, FrameWriter, RequestHead, DEFAULT_MAX_FRAME, type Frame, type Header } from "./frame.js";

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
  resolve: (r: any) => void;
  reject: (e: Error) => void;
  /** The request's options when they decode the reply (usually one object shared by all calls). */
  how: DecodedRequestOptions<unknown> | undefined;
  timer: NodeJS.Timeout | undefined;
  cleanup: (() => void) | undefined;
}

export interface LinkOptions {
  maxFrame?: number;
  /** The chunks given to receive() are reused by the caller once it returns (FrameParser). */
  transientInput?: boolean;
  onEvent?: (frame: Frame) => void;
  onClose?: (err: Error | null) => void;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told the request id before the request is written (to send cancels or match stream events). */
  onId?: (id: number) => void;
}

/** A request whose reply is turned into its value as it arrives (one promise per call, no .then). */
export interface DecodedRequestOptions<T> extends RequestOptions {
  /** The result from the reply: may throw, which rejects the request. */
  decode: (result: any, blobs: Buffer[]) => T;
  /** Every rejection (remote error, timeout, close) passes through this. */
  mapError?: (e: Error) => Error;
}

/** The resolvers of the promise being made: one executor serves every request, so a request
 * allocates no closure of its own (a burst keeps tens of thousands of requests pending).
 * Emptied as soon as they are taken (taken()): a resolver left here would keep its promise and
 * so its reply alive (a 60 MB poll reply stayed in an idle daemon until its next request). */
const NOOP = () => {};
const captured: { resolve: (v: unknown) => void; reject: (e: Error) => void } = { resolve: NOOP, reject: NOOP };
function capture(resolve: (v: unknown) => void, reject: (e: Error) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}
function taken(): void {
  captured.resolve = NOOP;
  captured.reject = NOOP;
}

/** Queued frames are written at once from this size on, instead of at the end of the turn. */
const FLUSH_AT = 16 * 1024;

/** After our writes fail, how long the far side's last frames (its fatal reason, its exit
 * status) may take to arrive before the write error is the link's verdict. */
const WRITE_FAILURE_GRACE_MS = 1000;

export class Link {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly parser: FrameParser;
  private readonly out: Writable;
  private readonly writer = new FrameWriter();
  private readonly flush = () => {
    const parts = this.writer.take();
    if (this.closed || !parts.length) return;
    if (parts.length === 1) this.out.write(parts[0]);
    else {
      this.out.cork();
      for (const p of parts) this.out.write(p);
      this.out.uncork();
    }
  };
  closed = false;
  closeError: Error | null = null;
  /** Our output failed (EPIPE: the far side stopped reading); the input may still hold its last words. */
  private writeError: Error | null = null;
  onEvent: (frame: Frame) => void;
  onClose: (err: Error | null) => void;

  constructor(input: Readable | Duplex, output?: Writable, opts: LinkOptions = {}) {
    this.out = output ?? (input as Duplex);
    this.parser = new FrameParser(opts.maxFrame ?? DEFAULT_MAX_FRAME, opts.transientInput);
    this.onEvent = opts.onEvent ?? (() => {});
    this.onClose = opts.onClose ?? (() => {});
    input.on("data", (chunk: Buffer) => this.receive(chunk));
    input.on("end", () => this.shutdown(this.writeError));
    input.on("close", () => this.shutdown(this.writeError));
    input.on("error", (e: Error) => this.shutdown(e));
    this.out.on("error", (e: Error) => this.writeFailed(e));
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
      if (header.k === "err") {
        const e = (header.e ?? {}) as Record<string, unknown>;
        this.fail(p, new LinkRemoteError(String(e.type ?? "Error"), String(e.message ?? ""), e));
      } else if (!p.how) p.resolve({ result: header.r, blobs: frame.blobs });
      else {
        let value: unknown;
        try {
          value = p.how.decode(header.r, frame.blobs);
        } catch (e) {
          p.reject(e as Error); // a value that does not decode fails this call only
          return;
        }
        p.resolve(value);
      }
      return;
    }
    this.onEvent(frame);
  }

  private fail(p: Pending, e: Error): void {
    p.reject(p.how?.mapError ? p.how.mapError(e) : e);
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
    this.queue();
    this.writer.frame(header, blobs);
    return this.queued();
  }

  /** Before a frame is queued: frames queued in one turn of the event loop leave together. */
  private queue(): void {
    if (!this.writer.pending) process.nextTick(this.flush);
  }

  /** After a frame is queued: a burst (thousands of calls in one turn) leaves in slices as it
   * is made, so the far side starts on the first ones while the rest are still being made. */
  private queued(): boolean {
    if (this.writer.pending >= FLUSH_AT) this.flush();
    return !this.out.writableNeedDrain;
  }

  request(op: string, fields?: Header, blobs?: readonly Uint8Array[], opts?: RequestOptions): Promise<Reply>;
  request<T>(op: string, fields: Header, blobs: readonly Uint8Array[], opts: DecodedRequestOptions<T>): Promise<T>;
  request(op: string, fields: Header = {}, blobs: readonly Uint8Array[] = [], opts: RequestOptions & Partial<DecodedRequestOptions<unknown>> = {}): Promise<unknown> {
    if (this.closed) return this.refuse(opts);
    const id = this.nextId++;
    const promise = new Promise<unknown>(capture);
    const { resolve, reject } = captured;
    taken();
    if (this.track(id, op, opts, resolve, reject)) {
      try {
        // Object.assign, not a spread: a spread of headers of varying shapes costs ~2 µs a call.
        const header: Header = Object.assign({}, fields);
        header.k = "req";
        header.i = id;
        header.op = op;
        this.queue();
        this.writer.frame(header, blobs);
        this.queued();
      } catch (e) {
        this.abandon(id, e as Error);
      }
    }
    return promise;
  }

  /**
   * A request whose header is `head` (its fixed fields, encoded once), its id, and `more`: JSON
   * text of further fields, each after a comma (`,"a":[1]`), or "". The hot path of tool calls.
   */
  requestWith<T>(head: RequestHead, more: string, blobs: readonly Uint8Array[], opts: DecodedRequestOptions<T>): Promise<T>;
  requestWith(head: RequestHead, more: string, blobs: readonly Uint8Array[], opts: RequestOptions & Partial<DecodedRequestOptions<unknown>>): Promise<unknown> {
    if (this.closed) return this.refuse(opts);
    const id = this.nextId++;
    const promise = new Promise<unknown>(capture);
    const { resolve, reject } = captured;
    taken();
    if (this.track(id, head.op, opts, resolve, reject)) {
      try {
        this.queue();
        this.writer.request(head, id, more, blobs);
        this.queued();
      } catch (e) {
        this.abandon(id, e as Error);
      }
    }
    return promise;
  }

  /** A request that could not be written fails on its own (e.g. a header JSON cannot encode). */
  private abandon(id: number, e: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.settle(id);
    p.reject(e);
  }

  private refuse(opts: Partial<DecodedRequestOptions<unknown>>): Promise<never> {
    const e = this.closeError ?? new LinkClosedError("link closed");
    return Promise.reject(opts.mapError ? opts.mapError(e) : e);
  }

  /** Register request id as pending (its deadline, its abort signal); false if already aborted. */
  private track(id: number, op: string, opts: RequestOptions & Partial<DecodedRequestOptions<unknown>>, resolve: (v: unknown) => void, reject: (e: Error) => void): boolean {
    // Every field set here, in one order: one object shape for all pending requests.
    const p: Pending = { resolve, reject, how: opts.decode ? (opts as DecodedRequestOptions<unknown>) : undefined, timer: undefined, cleanup: undefined };
    if (opts.timeoutMs !== undefined) {
      p.timer = setTimeout(() => {
        this.settle(id);
        this.fail(p, new LinkTimeoutError(`${op} timed out after ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
    }
    if (opts.signal) {
      const signal = opts.signal;
      if (signal.aborted) {
        if (p.timer) clearTimeout(p.timer);
        reject(signal.reason ?? new Error("aborted"));
        return false;
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
    return true;
  }

  /** A write failed: the far side may have ended with a reason still in our input (a fatal
   * frame, an exit status), which is a better verdict than EPIPE, so read on for a moment. */
  private writeFailed(e: Error): void {
    if (this.closed || this.writeError) return;
    this.writeError = e;
    setTimeout(() => this.shutdown(e), WRITE_FAILURE_GRACE_MS).unref();
  }

  shutdown(err: Error | null): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = err;
    const e = err ?? new LinkClosedError("link closed");
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      this.fail(p, e);
    }
    try {
      (this.out as Duplex).destroy?.();
    } catch {
      /* already gone */
    }
    this.onClose(err);
  }
}
