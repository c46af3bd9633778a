// locate: how a client reaches the host a session runs on, to copy files there itself
// (pysh put/get): the command prefix (none for a local session, the session's `via` for one
// on another host), the interpreter the session runs, and its working directory now (where a
// relative path starts). The daemon moves no file bytes: the client runs the built-in
// FileSync tool through that prefix, as a Tool agent.
import type { DaemonContext } from "../context.js";
import type { SessionHandle } from "../../session/handle.js";
import { DaemonError } from "../errors.js";

export interface Location {
  session: string;
  where: string;
  /** argv prefix that reaches the host ([] : this daemon's machine). */
  via: string[];
  /** The session's interpreter on that host. */
  python: string;
  /** The session's working directory now (its start directory if it cannot say). */
  cwd: string | null;
}

export async function locate(_ctx: DaemonContext, p: { s: SessionHandle }): Promise<Location> {
  const s = p.s;
  // Its host may still be there, but the copy would land in a session that is not.
  if (s.isDead()) throw new DaemonError("session_dead", `session '${s.name}' dead (${s.deathReason || "ended"}) -- pysh restart ${s.name} starts it again`);
  const via = s.where === "local" ? [] : s.settings.via;
  if (!via) throw new DaemonError("unsupported", `session '${s.name}' runs ${s.where}, behind another daemon: copy files through that daemon`);
  let cwd: string | null = s.info.cwd ?? null;
  if (s.state === "alive") {
    const st = await s.status(5000).catch(() => undefined);
    if (typeof st?.cwd === "string") cwd = st.cwd;
  }
  return { session: s.name, where: s.where, via, python: s.info.executable || s.settings.python || "python3", cwd };
}
