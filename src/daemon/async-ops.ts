// Async cells on the daemon side (issue 3): fork, poll --wait, interrupt with escalation,
// restart (with optional replay of history.py). Structured ops are installed by features.ts;
// legacy.ts calls interruptSession/forkCell for the 0.4 verbs.
import { existsSync, readFileSync } from "node:fs";
import type { DaemonContext } from "./context.js";
import type { Call } from "./structured.js";
import { ops as baseOps } from "./structured.js";
import { DaemonError } from "./errors.js";
import type { Session, CellResult } from "../session/session.js";
import { historyCells, firstLine, type HistoryCell } from "../session/replay.js";

/** Default grace between SIGINT and escalation (ms); PYTHOND_INT_GRACE (seconds) overrides. */
export function defaultGraceMs(): number {
  const env = Number(process.env.PYTHOND_INT_GRACE);
  return Number.isFinite(env) && env >= 0 ? env * 1000 : 5000;
}
/** Longest wait a client may ask of poll --wait or int (s): every wait has a deadline. */
export const MAX_WAIT_S = 24 * 3600;
/** history.py larger than this is not replayed (a clear error instead). */
export const MAX_REPLAY_BYTES = 16 * 1024 * 1024;

/** Per-session grace, by session name (survives restart of that session). */
const sessionGrace = new Map<string, number>();

export function setSessionGrace(name: string, ms: number | undefined): void {
  if (ms === undefined) sessionGrace.delete(name);
  else sessionGrace.set(name, ms);
}

function seconds(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > MAX_WAIT_S) {
    throw new DaemonError("bad_request", `"${what}" must be a number of seconds from 0 to ${MAX_WAIT_S}`);
  }
  return v;
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

/** Wait for a cell to end; true if it did within ms. */
function waitDone(s: Session, cellId: string, ms: number): Promise<boolean> {
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

/**
 * Interrupt whatever runs in a session: KeyboardInterrupt for the executor's cell, SIGKILL for
 * every fork's process group. If the executor's cell has not ended after the grace period, the
 * agent cannot save itself (a C call that blocks or ignores SIGINT): the daemon kills it and
 * says so. The escalation runs whether or not the caller waits for it.
 */
export async function interruptSession(s: Session, opts: { graceMs?: number; wait?: boolean } = {}): Promise<IntReport> {
  const graceMs = opts.graceMs ?? sessionGrace.get(s.name) ?? defaultGraceMs();
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
  if (opts.wait === false) {
    escalation.catch(() => {});
    return { ...base, outcome: "running", namespace: "kept", message: `sent KeyboardInterrupt to cell ${cellId}; escalation after ${graceMs / 1000} s` };
  }
  return escalation;
}

/** The 0.4 text reply of `int`. */
export function legacyIntText(name: string, r: IntReport): string {
  if (!r.threads && !r.processes) return `OK no running cells in ${name}`;
  const t = `${r.threads} thread${r.threads === 1 ? "" : "s"}`;
  const p = `${r.processes} process${r.processes === 1 ? "" : "es"}`;
  return `OK int ${name}: ${t} (best-effort), ${p} (killed)`;
}

/** Start a fork cell; returns its id. */
export async function forkCell(s: Session, code: string): Promise<string> {
  if (process.platform === "win32") throw new DaemonError("unsupported", "fork not supported on Windows (no COW fork)");
  const { cell_id } = await s.exec(code, "fork");
  return cell_id;
}

/** poll with an optional wait: block until the cell (latest without an id) is done or wait expires. */
async function pollWait(call: Call): Promise<unknown> {
  const waitS = seconds(call.req.wait, "wait");
  if (waitS === undefined) return baseOps.poll(call);
  const s = call.ctx.table.get(String(call.req.session));
  let cell = typeof call.req.cell === "string" && call.req.cell ? call.req.cell : undefined;
  const first = await s.poll(cell, 10_000);
  cell ??= first.cell_id;
  if (cell && (first.state === "running" || first.state === "queued")) {
    const done = await waitDone(s, cell, waitS * 1000);
    if (!done) call.event("waiting", { cell_id: cell, timed_out: true });
  }
  call.req.cell = cell;
  return baseOps.poll(call);
}

async function restartSession(ctx: DaemonContext, name: string, replay: boolean): Promise<Record<string, unknown>> {
  const old = ctx.table.find(name);
  if (!old) throw new DaemonError("no_session", `no session '${name}' -- create it first with: pysh new ${name}`, `no session '${name}' -- create it first with: new ${name}`);
  // What `new` was given (kept in the agent's key file, so also for an adopted session).
  const o = old.settings;
  const historyPath = old.checkpoint.historyPath;
  const s = await ctx.table.create(name, {
    replace: true,
    python: o.python ?? old.info.executable,
    cwd: o.cwd ?? old.info.cwd,
    env: o.env,
  });
  const result: Record<string, unknown> = { name: s.name, pid: s.pid, previous_pid: old.pid, python: s.info.executable, cwd: s.info.cwd };
  if (!replay) return result;
  if (!existsSync(historyPath)) return { ...result, replayed: false, replay_note: "no history.py yet" };
  const code = readFileSync(historyPath, "utf8");
  if (Buffer.byteLength(code) > MAX_REPLAY_BYTES) {
    throw new DaemonError("too_large", `history.py is over ${MAX_REPLAY_BYTES} bytes; not replayed (session restarted empty)`);
  }
  const cells = historyCells(code);
  if (!cells.length) return { ...result, replayed: false, replay_note: "history.py is empty" };
  return { ...result, ...(await replayCells(s, cells)) };
}

/** Most replay output sent back; beyond it a visible marker says how much was left out. */
export const REPLAY_OUTPUT_LIMIT = 64 * 1024;

/**
 * Replay recorded cells one by one, skipping the terminal-only ones; stop at the first that
 * fails (what follows it may depend on it) and say which it was and how many were left.
 */
async function replayCells(s: Session, cells: HistoryCell[]): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  let omitted = 0;
  const keep = (data: Buffer) => {
    const take = Math.max(0, Math.min(REPLAY_OUTPUT_LIMIT - size, data.length));
    if (take) chunks.push(Buffer.from(data.subarray(0, take)));
    size += take;
    omitted += data.length - take;
  };
  const skipped = cells.filter((c) => c.skip).map((c) => ({ cell: c.index, code: firstLine(c.code), reason: c.skip }));
  const todo = cells.filter((c) => !c.skip);
  let ran = 0;
  let failed: Record<string, unknown> | null = null;
  for (const c of todo) {
    const r = await s.run(c.code, "replay", (_stream, data) => keep(data));
    ran++;
    if (!r.ok) {
      failed = { cell: c.index, code: firstLine(c.code), error: r.error, not_replayed: todo.length - ran };
      break;
    }
  }
  let output = Buffer.concat(chunks).toString("utf8");
  if (omitted) output += `${output.endsWith("\n") || !output ? "" : "\n"}[pythond: ${omitted} more bytes of replay output not shown]\n`;
  return {
    replayed: true,
    ok: failed === null,
    error: failed ? failed.error : null,
    cells: cells.length,
    ran,
    skipped,
    failed,
    output,
    output_omitted: omitted,
  };
}

function graceOf(call: Call): number | undefined {
  const g = seconds(call.req.grace, "grace");
  return g === undefined ? undefined : g * 1000;
}

export function asyncOps(ctx: DaemonContext): Record<string, (call: Call) => Promise<unknown>> {
  return {
    async fork(call) {
      const code = call.req.code;
      if (typeof code !== "string") throw new DaemonError("bad_request", '"code" must be a string');
      if (!code.trim()) throw new DaemonError("bad_request", "fork requires code");
      const s = call.ctx.table.get(String(call.req.session));
      const cell_id = await forkCell(s, code);
      s.checkpoint.recordLaunch(code, JSON.stringify({ cell_id, status: "forked" }));
      return { cell_id, status: "forked" };
    },
    poll: pollWait,
    async int(call) {
      const s = call.ctx.table.get(String(call.req.session));
      return interruptSession(s, { graceMs: graceOf(call), wait: call.req.wait !== false });
    },
    async restart(call) {
      const name = String(call.req.session ?? "");
      const r = await restartSession(ctx, name, call.req.replay === true);
      return r;
    },
    async new(call) {
      const grace = graceOf({ ...call, req: { ...call.req, grace: call.req.int_grace } } as Call);
      const r = await baseOps.new(call);
      setSessionGrace(String(call.req.session), grace);
      return r;
    },
  };
}

export type { CellResult };
