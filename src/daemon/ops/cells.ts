// cells: the agent's records of the session's cells.
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";

export async function cells(_ctx: DaemonContext, p: { s: SessionHandle }): Promise<Record<string, unknown>> {
  return p.s.cells();
}
