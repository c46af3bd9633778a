// disconnect: drop a proxy (its remote session lives on; kill ends that one).
import type { DaemonContext } from "../context.js";

export async function disconnect(ctx: DaemonContext, p: { alias: string }): Promise<Record<string, unknown>> {
  return (await import("../../proxy/proxies.js")).disconnectProxy(ctx.table, p.alias);
}
