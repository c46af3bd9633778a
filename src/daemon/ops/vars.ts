// vars: the namespace's names (with reprs if asked).
import type { DaemonContext } from "../context.js";
import type { Session } from "../../session/session.js";

export async function vars(_ctx: DaemonContext, p: { s: Session; reprs: boolean }): Promise<Record<string, unknown>> {
  return p.s.vars(p.reprs);
}
