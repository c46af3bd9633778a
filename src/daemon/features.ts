// Optional daemon features hook in here (attach, ...), so server.ts stays one concern.
import type { DaemonContext } from "./context.js";
import type { Call } from "./structured.js";
import { asyncOps } from "./async-ops.js";
import { attachOp, legacyAttach } from "./attach.js";

export interface Features {
  structuredOps: Record<string, (call: Call) => Promise<unknown>>;
}

export function installFeatures(ctx: DaemonContext): Features {
  ctx.legacyAttach = (c, conn) => legacyAttach(ctx, c, conn);
  return { structuredOps: { ...asyncOps(ctx), attach: attachOp } };
}
