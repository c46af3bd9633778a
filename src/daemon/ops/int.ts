// int: KeyboardInterrupt to the running cell, SIGKILL to every fork, and if the cell ignores
// the interrupt for the grace period, the agent killed (and the caller told so).
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";
import { waitDone } from "./wait-done.js";

/** Default grace between SIGINT and escalation (ms); PYTHOND_INT_GRACE (seconds) overrides. */
export function defaultGraceMs(): number {
  const env = Number(process.env.PYTHOND_INT_GRACE);
  return Number.isFinite(env) && env >= 0 ? env * 1000 : 5000;
}

export interface IntParams {
  s: SessionHandle;
  /** Grace before escalation (ms); else the session's (`new --int-grace`), else the default. */
  graceMs?: number;
  /** Wait for the outcome (else answer at once; the escalation goes on regardless). */
  wait: boolean;
}

export interface IntReport {
  /** The executor cell that got KeyboardInterrupt, if any. */
  interrupted: string | null;
  threads: number;
  /** Fork processes (and their groups) killed. */
  processes: number;
  /** "stopped": the cell ended after the interrupt; "running": not waited for; "escalated": agent killed. */
  outcome: "stopped" | "running" | "escalated" | "idle";
  stopped_ms?: number;
  namespace: "kept" | "lost";
  message: string;
}

/**
 * Interrupt whatever runs in a session: KeyboardInterrupt for the executor's cell, SIGKILL for
 * every fork's process group. If the executor's cell has not ended after the grace period, the
 * agent cannot save itself (a C call that blocks or ignores SIGINT): the daemon kills it and
 * says so. The escalation runs whether or not the caller waits for it.
 */
export async function int(ctx: DaemonContext, p: IntParams): Promise<IntReport> {
  const { s } = p;
  // A proxied session: its daemon interrupts and escalates.
  if (s.remote) return s.remote.ask("int", { wait: p.wait, ...(p.graceMs !== undefined ? { grace: p.graceMs / 1000 } : {}) });
  const graceMs = p.graceMs ?? ctx.table.intGrace(s.name) ?? defaultGraceMs();
  const t0 = Date.now();
  const r = await s.interrupt();
  const base = { interrupted: r.interrupted ?? null, threads: r.threads ?? (r.interrupted ? 1 : 0), processes: r.processes ?? 0 };
  if (!r.interrupted) {
    const message = base.processes ? `killed ${base.processes} fork process group(s)` : "no running cells";
    return { ...base, outcome: base.processes ? "stopped" : "idle", namespace: "kept", message };
  }
  const cellId = r.interrupted;
  const escalation = waitDone(s, cellId, graceMs).then(async (stopped): Promise<IntReport> => {
    if (stopped) {
      const ms = Date.now() - t0;
      return { ...base, outcome: "stopped", stopped_ms: ms, namespace: "kept", message: `cell ${cellId} stopped (KeyboardInterrupt) after ${ms} ms; namespace kept` };
    }
    const pid = s.pid;
    // The reason (the death reason of later errors, which add the advice themselves) ...
    const reason =
      `cell ${cellId} ignored the interrupt for ${(graceMs / 1000).toFixed(1)} s (stuck in C code or ` +
      `catching KeyboardInterrupt); the daemon killed the session's agent (pid ${pid}); ` +
      `the namespace did not survive`;
    s.killNote = reason;
    await s.kill();
    // ... and the one piece of advice for this report.
    return { ...base, outcome: "escalated", namespace: "lost", message: `${reason} -- pysh restart ${s.name}` };
  });
  if (!p.wait) {
    escalation.catch(() => {});
    return { ...base, outcome: "running", namespace: "kept", message: `sent KeyboardInterrupt to cell ${cellId}; escalation after ${graceMs / 1000} s` };
  }
  return escalation;
}
