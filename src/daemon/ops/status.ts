// status: the executor's state, queue and memory (answered even while a cell runs).
import type { DaemonContext } from "../context.js";
import type { Session } from "../../session/session.js";

export async function status(_ctx: DaemonContext, p: { s: Session }): Promise<Record<string, any>> {
  return p.s.status();
}
