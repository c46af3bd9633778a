// cancel: drop a queued cell before it starts (a running one is interrupted with int).
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";

export async function cancel(_ctx: DaemonContext, p: { s: SessionHandle; cell: string }): Promise<Record<string, unknown>> {
  return p.s.cancel(p.cell);
}
