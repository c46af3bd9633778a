// output: what no cell owns (threads and children of ended cells), from byte offset `since`.
import type { DaemonContext } from "../context.js";
import type { Session, BackgroundOutput } from "../../session/session.js";

export async function output(_ctx: DaemonContext, p: { s: Session; since: number }): Promise<BackgroundOutput> {
  return p.s.backgroundOutput(p.since);
}
