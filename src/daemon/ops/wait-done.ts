// Waiting for a cell to end, for poll --wait and the interrupt's grace period.
import type { SessionHandle } from "../../session/handle.js";

/** Wait for a cell to end; true if it did within ms. */
export function waitDone(s: SessionHandle, cellId: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (v: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unwatch?.();
      resolve(v);
    };
    const timer = setTimeout(() => finish(false), ms);
    const unwatch = s.watch(cellId, { done: () => finish(true), lost: () => finish(true) });
    if (!unwatch) {
      // Not tracked by this daemon (adopted agent): ask the agent until it says done.
      const tick = async () => {
        while (!settled) {
          try {
            const r = await s.poll(cellId, 2000);
            if (r.state !== "running" && r.state !== "queued") return finish(true);
          } catch {
            return finish(true);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      void tick();
    }
  });
}
