// status: the executor's state, queue and memory (answered even while a cell runs).
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";

export async function status(_ctx: DaemonContext, p: { s: SessionHandle }): Promise<Record<string, any>> {
  return p.s.status();
}
