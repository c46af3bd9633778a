// Starting a session whose agent runs on another host (`pysh new work --via "ssh web01"`), and
// re-joining one that a previous daemon left (its `<id>.via` record in the daemon's 0700 agent
// dir: the secret, what `new` was given, the agent's socket there).
import { join } from "node:path";
import { startAgent } from "../bootstrap/spawn.js";
import { randomHex } from "../util/random.js";
import { Session } from "./session.js";
import { writeKey, readKey, removeKey, type SessionSettings } from "./agent-key.js";
import { ViaReach, childStream } from "./via-reach.js";

/** An un-rejoined remote agent ends after this long without a daemon (`--idle-ttl`). */
export const DEFAULT_IDLE_TTL_S = 24 * 3600;

export interface ViaStartOptions {
  name: string;
  via: string[];
  /** The interpreter on the far side (default python3). */
  python: string;
  agentDir: string;
  maxOutput: number;
  idleTtlS: number;
  cwd?: string;
  /** --env for the agent there. */
  env?: Record<string, string>;
  /** The environment of the transport command (`ssh`, `docker` ...) here. */
  transportEnv: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export async function startViaSession(o: ViaStartOptions): Promise<Session> {
  const secret = randomHex(32); // over the transport's stdin only: never argv, env or a log
  const record = join(o.agentDir, `${randomHex(4)}.via`);
  const settings: SessionSettings = { python: o.python, cwd: o.cwd, env: o.env, via: o.via, idle_ttl: o.idleTtlS };
  const timeoutMs = o.timeoutMs ?? 30_000;
  const config = { mode: "session", detach: true, name: o.name, secret, max_output: o.maxOutput, idle_ttl: o.idleTtlS, cwd: o.cwd, env: o.env };
  const started = await startAgent([...o.via, o.python], config, { env: o.transportEnv, timeoutMs });
  const first = childStream(started);
  const reach = new ViaReach(o.via, o.python, "(starting)", record, o.idleTtlS * 1000, o.transportEnv, first);
  let session: Session;
  try {
    session = await Session.attach(record, timeoutMs, { secret, settings }, reach);
  } catch (e) {
    first.close();
    // What the transport printed, less the prompts of the `python3 -qui` it ran.
    const said = started.stderr.text().replace(/(^|\s|\|)(>>>|\.\.\.)(?=\s|$)/g, " ").replace(/(\s*\|\s*)+$/, "").trim();
    throw new Error(`${(e as Error).message}${said ? `. Its transport said: ${said}` : ""}`);
  }
  reach.socket = session.info.socket;
  writeKey(record, { secret, settings, remote: { socket: session.info.socket } });
  return session;
}

/** Re-join the remote session of one `<id>.via` record; a record whose agent is gone is removed. */
export async function rejoinViaSession(record: string, transportEnv: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<Session> {
  const key = readKey(record);
  const s = key.settings;
  if (!key.remote || !s.via) throw new Error(`${record} names no remote session`);
  const reach = new ViaReach(s.via, s.python ?? "python3", key.remote.socket, record, (s.idle_ttl ?? DEFAULT_IDLE_TTL_S) * 1000, transportEnv);
  try {
    return await Session.attach(record, timeoutMs, key, reach);
  } catch (e) {
    if (!reach.mayLive()) removeKey(record); // the relay got there and no agent answers
    throw e;
  }
}
