// complete: completions of `text` in the session's namespace.
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";

export async function complete(_ctx: DaemonContext, p: { s: SessionHandle; text: string }): Promise<Record<string, unknown>> {
  return p.s.complete(p.text);
}
