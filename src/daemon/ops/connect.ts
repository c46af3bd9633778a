// connect: a proxy to a remote daemon under an alias (probed first; an existing live session
// of that name only with replace). The proxy code, TLS included, loads only here.
import type { DaemonContext } from "../context.js";
import type { ConnectParams } from "../../proxy/proxies.js";

export async function connect(ctx: DaemonContext, p: ConnectParams): Promise<Record<string, unknown>> {
  return (await import("../../proxy/proxies.js")).connectProxy(ctx.table, p);
}
