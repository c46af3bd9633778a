// stop: the daemon stops once this reply has left (its sessions kept, or ended with it).
import type { DaemonContext } from "../context.js";
import type { Sink } from "./op.js";

export async function stop(ctx: DaemonContext, p: { keepSessions: boolean }, sink: Sink): Promise<{ stopping: true; keep_sessions: boolean }> {
  sink.afterReply(() => ctx.stop({ keepSessions: p.keepSessions, closeCode: 1001 }));
  return { stopping: true, keep_sessions: p.keepSessions };
}
