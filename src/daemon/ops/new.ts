// new: start a session (or replace one), remembering its interrupt grace under its name.
import type { DaemonContext } from "../context.js";

export interface NewParams {
  name: string;
  replace: boolean;
  python?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** A command prefix that reaches another host's python3: the session runs there. */
  via?: string[];
  /** With via: seconds an un-rejoined agent waits before it ends. */
  idleTtl?: number;
  /** ms between SIGINT and escalation; null: the default; undefined: leave as it was. */
  intGraceMs?: number | null;
  /** Through a proxy: the remote session to create (else the alias's). */
  remote?: string;
}

export async function newSession(ctx: DaemonContext, p: NewParams): Promise<Record<string, unknown>> {
  const proxy = ctx.table.find(p.name)?.remote;
  if (proxy) {
    // `new` of a proxy's name starts the session on its remote daemon.
    const target = p.remote ? proxy.session(p.remote).remote! : proxy;
    const { name, replace, python, cwd, env } = p;
    return target.ask("new", { replace, python, cwd, env, ...(typeof p.intGraceMs === "number" ? { int_grace: p.intGraceMs / 1000 } : {}) }).then((r) => ({ ...r, name, where: proxy.linkInfo().address }));
  }
  const s = await ctx.table.create(p.name, { replace: p.replace, python: p.python, cwd: p.cwd, env: p.env, via: p.via, idleTtl: p.idleTtl });
  if (p.intGraceMs !== undefined) ctx.table.setIntGrace(p.name, p.intGraceMs ?? undefined);
  return { name: s.name, pid: s.pid, python: s.info.python, executable: s.info.executable, cwd: s.info.cwd, where: s.where };
}
