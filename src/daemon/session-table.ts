// The daemon's named sessions: creation rules (names, limits, no silent replacement),
// lookup, kill, and re-adoption of agents a previous daemon left running.
import { readdirSync, unlinkSync, statSync, existsSync } from "node:fs";
import { join, delimiter } from "node:path";
import { spawnSync } from "node:child_process";
import { Session } from "../session/session.js";
import type { SessionHandle } from "../session/handle.js";
import { keyPathOf, removeKey } from "../session/agent-key.js";
import { probeSocket } from "./instance.js";
import { DaemonError } from "./errors.js";
import { isValidName } from "./names.js";
import { Spare, SPARE_NAME } from "./spare.js";
import { startViaSession, rejoinViaSession, DEFAULT_IDLE_TTL_S } from "../session/via-start.js";

export interface TableOptions {
  agentDir: string;
  maxSessions: number;
  maxOutput: number;
}

export interface NewSessionOptions {
  replace?: boolean;
  python?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Run the agent through this command prefix (`ssh web01`): a session on that host. */
  via?: string[];
  /** Seconds an un-rejoined remote agent lives on (with via). */
  idleTtl?: number;
}

let resolvedPython: string | undefined;

/** The real interpreter behind `python3` (shims such as pyenv's cost ~80 ms per start). */
/** Settings a spawn would only report as "spawn ... ENOENT": said plainly, naming the option. */
function checkStartOptions(name: string, opts: NewSessionOptions): void {
  const fail = (why: string) => new DaemonError("start_failed", `failed to create session '${name}': ${why}`);
  if (opts.cwd !== undefined) {
    let st;
    try {
      st = statSync(opts.cwd);
    } catch {
      throw fail(`--cwd ${opts.cwd}: no such directory`);
    }
    if (!st.isDirectory()) throw fail(`--cwd ${opts.cwd}: not a directory`);
  }
  const py = opts.python;
  if (py !== undefined) {
    const found = py.includes("/") ? existsSync(py) : (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, py)));
    if (!found) throw fail(`--python ${py}: ${py.includes("/") ? "no such file" : "not found on PATH"}`);
  }
}

export function defaultPython(): string {
  if (resolvedPython) return resolvedPython;
  const cmd = process.env.PYTHOND_PYTHON || "python3";
  const r = spawnSync(cmd, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8", timeout: 10_000 });
  const exe = r.status === 0 ? r.stdout.trim() : "";
  return (resolvedPython = exe || cmd);
}

export function sessionEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHOND_INTERNAL_WORKER: "1", ...extra };
  env.TERM ??= "xterm-256color";
  delete env.PYTHOND_TOKEN; // a session never needs the daemon's credentials
  return env;
}

export class SessionTable {
  private readonly sessions = new Map<string, SessionHandle>();
  private readonly creating = new Map<string, Promise<SessionHandle>>();
  private readonly graces = new Map<string, number>();
  /** A warm agent with the default settings, claimed by the next default `new` (spare.ts). */
  private readonly spare = new Spare(() => ({
    name: SPARE_NAME,
    python: defaultPython(),
    agentDir: this.opts.agentDir,
    env: sessionEnv(),
    maxOutput: this.opts.maxOutput,
  }));

  constructor(private readonly opts: TableOptions) {}

  /** Interrupt grace (ms) given to `new`, by session name: it outlives restarts of that session. */
  intGrace(name: string): number | undefined {
    return this.graces.get(name);
  }

  setIntGrace(name: string, ms: number | undefined): void {
    if (ms === undefined) this.graces.delete(name);
    else this.graces.set(name, ms);
  }

  get(name: string): SessionHandle {
    const s = this.sessions.get(name);
    if (!s) throw new DaemonError("no_session", `no session '${name}' -- create it first with: pysh new ${name}`, `no session '${name}' -- create it first with: new ${name}`);
    return s;
  }

  find(name: string): SessionHandle | undefined {
    return this.sessions.get(name);
  }

  /** Every session, sorted by name (what ls shows, on both protocols). */
  list(): SessionHandle[] {
    return [...this.sessions.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** A local session: an agent on this machine (the warm spare when every setting is default). */
  create(name: string, opts: NewSessionOptions = {}): Promise<SessionHandle> {
    if (opts.via) return this.add(name, opts.replace ?? false, () => this.launchVia(name, opts, opts.via!));
    return this.add(name, opts.replace ?? false, () => this.launchLocal(name, opts), () => checkStartOptions(name, opts));
  }

  /** A session on another host: its agent bootstrapped through the prefix, detached there. */
  private async launchVia(name: string, opts: NewSessionOptions, via: string[]): Promise<SessionHandle> {
    try {
      return await startViaSession({
        name,
        via,
        python: opts.python ?? "python3",
        agentDir: this.opts.agentDir,
        maxOutput: this.opts.maxOutput,
        idleTtlS: opts.idleTtl ?? DEFAULT_IDLE_TTL_S,
        cwd: opts.cwd,
        env: opts.env,
        transportEnv: sessionEnv(),
      });
    } catch (e) {
      throw new DaemonError("start_failed", `failed to create session '${name}' via ${via.join(" ")}: ${(e as Error).message}`);
    }
  }

  /**
   * Put a session of any kind under `name` with the table's rules: a valid name, the session
   * limit, no silent replacement of a live one. `check` runs before a replace discards the old
   * session; `launch` starts the new one.
   */
  async add(name: string, replace: boolean, launch: () => Promise<SessionHandle>, check?: () => void): Promise<SessionHandle> {
    if (!isValidName(name)) throw new DaemonError("invalid_name", "invalid session name");
    const pending = this.creating.get(name);
    if (pending) await pending.catch(() => {});
    const existing = this.sessions.get(name);
    if (existing && existing.state !== "dead" && !replace) {
      throw new DaemonError("exists", `session '${name}' already exists (${existing.where === "local" ? `pid ${existing.pid}` : existing.where}); use --replace to discard it`);
    }
    if (!existing && this.sessions.size >= this.opts.maxSessions) {
      throw new DaemonError("too_many_sessions", `too many sessions (max ${this.opts.maxSessions})`);
    }
    check?.();
    const work = (async () => {
      if (existing) {
        await existing.kill();
        this.sessions.delete(name);
      }
      const session = await launch();
      this.sessions.set(name, session);
      return session;
    })();
    this.creating.set(name, work);
    try {
      return await work;
    } finally {
      if (this.creating.get(name) === work) this.creating.delete(name);
    }
  }

  private async launchLocal(name: string, opts: NewSessionOptions): Promise<SessionHandle> {
    // Only a `new` with every setting at its default may take the spare (same python, cwd and
    // env as a fresh start); then the next spare starts in the background.
    const isDefault = opts.python === undefined && opts.cwd === undefined && opts.env === undefined;
    const spare = isDefault ? await this.spare.claim(name) : undefined;
    if (isDefault) this.spare.fill();
    if (spare) return spare;
    try {
      return await Session.spawn({
        name,
        python: opts.python ?? defaultPython(),
        agentDir: this.opts.agentDir,
        cwd: opts.cwd,
        env: sessionEnv(opts.env),
        maxOutput: this.opts.maxOutput,
        settings: { python: opts.python ?? defaultPython(), cwd: opts.cwd, env: opts.env },
      });
    } catch (e) {
      throw new DaemonError("start_failed", `failed to create session '${name}': ${(e as Error).message}`);
    }
  }

  async kill(name: string): Promise<void> {
    const s = this.sessions.get(name);
    if (!s) throw new DaemonError("no_session", `no session '${name}'`);
    this.sessions.delete(name);
    await s.kill();
  }

  /** Re-adopt every agent whose socket is in agentDir (proving the secret in its key file);
   * remove sockets nobody answers on, and key files whose socket is gone. */
  async adoptAll(): Promise<{ adopted: string[]; stale: number }> {
    let all: string[] = [];
    try {
      all = readdirSync(this.opts.agentDir);
    } catch {
      return { adopted: [], stale: 0 };
    }
    const files = all.filter((f) => f.endsWith(".sock"));
    const records = all.filter((f) => f.endsWith(".via"));
    for (const f of all) {
      if (f.endsWith(".key") && !all.includes(f.replace(/\.key$/, ".sock"))) removeKey(join(this.opts.agentDir, f));
    }
    const adopted: string[] = [];
    let stale = 0;
    const keep = (s: SessionHandle) => {
      const other = this.sessions.get(s.name);
      if (other) {
        // Two agents claim one name (a crash mid-replace): keep the newer.
        const [keep, drop] = other.info.started >= s.info.started ? [other, s] : [s, other];
        void drop.kill();
        this.sessions.set(keep.name, keep);
      } else this.sessions.set(s.name, s);
      adopted.push(s.name);
    };
    const remote = records.map(async (f) => {
      try {
        keep(await rejoinViaSession(join(this.opts.agentDir, f), sessionEnv()));
      } catch (e) {
        process.stderr.write(`pythond: not re-joining the remote session of ${f}: ${(e as Error).message}\n`);
      }
    });
    await Promise.all([
      ...remote,
      ...files.map(async (f) => {
        const path = join(this.opts.agentDir, f);
        try {
          const s = await Session.attach(path, 3000);
          if (s.name === SPARE_NAME) {
            // A spare a previous daemon left (it crashed): never a named session.
            await s.kill();
            return;
          }
          keep(s);
        } catch (e) {
          if (await probeSocket(path, 1000)) {
            // A live agent we cannot prove ourselves to (its key file is missing or garbled):
            // never remove what keeps it findable; say so once.
            process.stderr.write(`pythond: not adopting the agent at ${path}: ${(e as Error).message}; it is left running\n`);
            return;
          }
          stale++;
          try {
            unlinkSync(path);
          } catch {
            /* gone */
          }
          removeKey(keyPathOf(path));
        }
      }),
    ]);
    return { adopted, stale };
  }

  async shutdown(killSessions: boolean): Promise<void> {
    const all = this.list();
    this.sessions.clear();
    await this.spare.stop(); // the spare is killed even when sessions are kept
    await Promise.all(all.map((s) => (killSessions ? s.kill() : Promise.resolve(s.detach()))));
  }
}
