// hello: who answers (the daemon, its protocol version, pid and socket).
import type { DaemonContext } from "../context.js";

export async function hello(ctx: DaemonContext): Promise<Record<string, unknown>> {
  return { server: "pythond", protocol: 1, pid: process.pid, socket: ctx.socket, started: ctx.startedAt };
}
