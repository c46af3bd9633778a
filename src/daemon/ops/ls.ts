// ls: every session, sorted by name; with `status`, what each agent says of itself.
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";

export interface SessionSummary {
  name: string;
  state: string;
  pid: number;
  [field: string]: unknown;
}

async function summary(s: SessionHandle): Promise<SessionSummary> {
  const base: SessionSummary = {
    name: s.name,
    state: s.state,
    pid: s.pid,
    where: s.where,
    python: s.info.python,
    executable: s.info.executable,
    cwd: s.info.cwd,
    started: s.info.started,
    last_activity: s.lastActivity / 1000,
  };
  if (s.state !== "alive") return { ...base, reason: s.deathReason };
  try {
    const st = await s.status(1000);
    return { ...base, busy: st.state === "running", running: st.running, queued: st.queued, memory: st.memory, cells: st.cells };
  } catch {
    return base;
  }
}

export async function ls(ctx: DaemonContext, p: { status: boolean }): Promise<{ sessions: SessionSummary[] }> {
  const all = ctx.table.list();
  if (!p.status) return { sessions: all.map((s) => ({ name: s.name, state: s.state, pid: s.pid, where: s.where })) };
  return { sessions: await Promise.all(all.map(summary)) };
}
