// complete: completions of `text` in the session's namespace.
import type { DaemonContext } from "../context.js";
import type { Session } from "../../session/session.js";

export async function complete(_ctx: DaemonContext, p: { s: Session; text: string }): Promise<Record<string, unknown>> {
  return p.s.complete(p.text);
}
