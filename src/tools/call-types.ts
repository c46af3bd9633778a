// The types a tool call is written in, shared by Remote (remote.ts) and what it hands work to
// (stream.ts, transfer.ts, fleet.ts): none of those imports remote.ts, so no import cycle.
import type { Reply } from "../link/link.js";
import type { MethodRef } from "./load-tool.js";

export type AnyFn = (...args: any[]) => any;
export type ResultOf<F extends AnyFn> = Awaited<ReturnType<F>>;
export type ItemOf<F extends AnyFn> = ReturnType<F> extends AsyncIterable<infer I> ? I : unknown;

export interface CallOptions {
  /** Deadline enforced by the agent; the call rejects with RemoteError type "DeadlineExceeded". */
  deadlineMs?: number;
  /** Abort: the agent cancels the call (async: task cancel; sync: interrupt + kill its process groups). */
  signal?: AbortSignal;
  /** Python keyword arguments. */
  kwargs?: Record<string, unknown>;
}

/** What calls tool methods: a Remote, as transfer.ts sees it. */
export interface ToolCaller {
  call<F extends AnyFn>(ref: MethodRef<F>, ...args: Parameters<F>): Promise<ResultOf<F>>;
}

/** A Remote as a stream sees it: requests, cancels and credit on its link, and where its
 * stream items are routed by request id. */
export interface StreamLink<S> {
  readonly streams: Map<number, S>;
  send(op: string, fields: Record<string, unknown>, blobs: Uint8Array[], opts: CallOptions, onId?: (id: number) => void): Promise<Reply>;
  cancel(id: number): void;
  credit(id: number, items: number, bytes: number): void;
}
