// hello: who answers (the daemon, its protocol version, pid and socket; its TCP listener, which
// pyctl restart hands on to the next daemon).
import type { DaemonContext } from "../context.js";

export async function hello(ctx: DaemonContext): Promise<Record<string, unknown>> {
  return { server: "pythond", protocol: 1, pid: process.pid, socket: ctx.socket, started: ctx.startedAt, ...(ctx.listening ? { listening: ctx.listening } : {}) };
}
