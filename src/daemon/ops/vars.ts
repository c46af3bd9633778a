// vars: the namespace's names (with reprs if asked).
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";

export async function vars(_ctx: DaemonContext, p: { s: SessionHandle; reprs: boolean }): Promise<Record<string, unknown>> {
  return p.s.vars(p.reprs);
}
