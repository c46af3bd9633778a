// cells: the agent's records of the session's cells.
import type { DaemonContext } from "../context.js";
import type { Session } from "../../session/session.js";

export async function cells(_ctx: DaemonContext, p: { s: Session }): Promise<Record<string, unknown>> {
  return p.s.cells();
}
