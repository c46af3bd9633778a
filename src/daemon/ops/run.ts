// run: one cell on the session's executor; output streams to the sink, the end is the result.
import type { DaemonContext } from "../context.js";
import type { Sink } from "./op.js";
import type { SessionHandle } from "../../session/handle.js";
import type { CellResult } from "../../session/session.js";

export interface RunParams {
  s: SessionHandle;
  code: string;
  /** Chosen by a client that wants to poll the cell after giving up waiting. */
  cell?: string;
  /** What the cell's input() and sys.stdin read; without it an agent cell has no stdin. */
  stdin?: string;
}

export async function run(_ctx: DaemonContext, p: RunParams, sink: Sink): Promise<CellResult> {
  return p.s.run(p.code, "run", (stream, data) => sink.output(stream, data, p.s), p.cell, p.stdin);
}
