// kill: end a session and its agent.
import type { DaemonContext } from "../context.js";

export async function kill(ctx: DaemonContext, p: { name: string }): Promise<{ killed: string }> {
  await ctx.table.kill(p.name);
  return { killed: p.name };
}
