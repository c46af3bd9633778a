// kill: end a session and its agent.
import type { DaemonContext } from "../context.js";

export async function kill(ctx: DaemonContext, p: { name: string; remote?: string }): Promise<{ killed: string }> {
  const proxy = ctx.table.find(p.name)?.remote;
  if (proxy) {
    // Through a proxy: the remote session ends; the proxy stays (disconnect drops it).
    await (p.remote ? proxy.session(p.remote).remote! : proxy).ask("kill", {});
    return { killed: p.remote ?? p.name };
  }
  await ctx.table.kill(p.name);
  return { killed: p.name };
}
