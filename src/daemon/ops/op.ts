// What every op is: a plain function (ctx, params, sink) -> result. It knows nothing of
// WebSockets or of which protocol asked; the adapters (structured.ts, legacy.ts) parse a
// request into params, call the op, and encode what it returns.
import type { DaemonContext } from "../context.js";

/** Whose output a sink is carrying: a slow client may pause reading it (backpressure.ts). */
export interface OutputSource {
  pauseInput(): void;
  resumeInput(): void;
}

/** Where an op sends what comes before its result. */
export interface Sink {
  /** Cell output as it is produced (stream 1 stdout, 2 stderr). */
  output(stream: number, data: Buffer, from?: OutputSource): void;
  /** An intermediate event of this request ("waiting", "attached", "warning"). */
  event(name: string, fields: Record<string, unknown>): void;
  /** Run once the reply has been sent (stop after its "stopping" reply). */
  afterReply(fn: () => void): void;
}

export type Op<P, R> = (ctx: DaemonContext, params: P, sink: Sink) => Promise<R>;

/** A sink for an op whose output and events nobody follows (0.4 collects run output itself). */
export const quietSink = (afterReply: (fn: () => void) => void = () => {}): Sink => ({ output() {}, event() {}, afterReply });

/** Longest wait a client may ask of poll --wait or int (s): every wait has a deadline. */
export const MAX_WAIT_S = 24 * 3600;
