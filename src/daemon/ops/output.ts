// output: what no cell owns (threads and children of ended cells), from byte offset `since`.
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";
import type { BackgroundOutput } from "../../session/session.js";

export async function output(_ctx: DaemonContext, p: { s: SessionHandle; since: number }): Promise<BackgroundOutput> {
  return p.s.backgroundOutput(p.since);
}
