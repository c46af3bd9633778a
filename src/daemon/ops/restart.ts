// restart: a fresh agent with what `new` was given, optionally replaying history.py's cells.
import { existsSync, readFileSync } from "node:fs";
import type { DaemonContext } from "../context.js";
import { DaemonError } from "../errors.js";
import type { SessionHandle } from "../../session/handle.js";
import { historyCells, firstLine, type HistoryCell } from "../../session/replay.js";

/** history.py larger than this is not replayed (a clear error instead). */
export const MAX_REPLAY_BYTES = 16 * 1024 * 1024;

export async function restart(ctx: DaemonContext, p: { name: string; replay: boolean; remote?: string }): Promise<Record<string, unknown>> {
  const { name, replay } = p;
  const old = ctx.table.find(name);
  if (!old) throw new DaemonError("no_session", `no session '${name}' -- create it first with: pysh new ${name}`, `no session '${name}' -- create it first with: new ${name}`);
  const self = p.remote && old.remote ? old.remote.session(p.remote) : old;
  if (self.restart) return self.restart(replay);
  // What `new` was given (kept in the agent's key file, so also for an adopted session).
  const o = old.settings;
  const historyPath = old.checkpoint.historyPath;
  const s = await ctx.table.create(name, {
    replace: true,
    python: o.python ?? old.info.executable,
    cwd: o.cwd ?? old.info.cwd,
    env: o.env,
    via: o.via, // on the same host, through the same prefix
    idleTtl: o.idle_ttl,
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
async function replayCells(s: SessionHandle, cells: HistoryCell[]): Promise<Record<string, unknown>> {
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
