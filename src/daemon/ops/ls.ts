// ls: every session, sorted by name; with `status`, what each agent says of itself.
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";
import { DaemonError } from "../errors.js";

export interface SessionSummary {
  name: string;
  state: string;
  pid: number;
  [field: string]: unknown;
}

/** What ls says of every session, with or without status. */
function brief(s: SessionHandle): SessionSummary {
  return { name: s.name, state: s.state, pid: s.pid, where: s.where, ...(s.remote ? { proxy: s.remote.linkInfo() } : {}) };
}

async function summary(s: SessionHandle): Promise<SessionSummary> {
  const base: SessionSummary = {
    ...brief(s),
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

export async function ls(ctx: DaemonContext, p: { status: boolean; remote?: string }): Promise<{ sessions: SessionSummary[] }> {
  if (p.remote !== undefined) {
    // The sessions of a proxy's remote daemon, as that daemon lists them.
    const proxy = ctx.table.get(p.remote).remote;
    if (!proxy) throw new DaemonError("bad_request", `'${p.remote}' is not a proxy (pyctl connect makes one)`);
    return proxy.ask("ls", {});
  }
  const all = ctx.table.list();
  if (!p.status) return { sessions: all.map(brief) };
  return { sessions: await Promise.all(all.map(summary)) };
}
