// A session agent's key file, <id>.key beside its socket <id>.sock in the daemon's 0700 agent
// dir: the per-session secret the daemon proves to the agent on every connection (HMAC-SHA256
// of the agent's nonce), and the settings the session was made with, so that a daemon that
// re-adopts it (pyctl restart, or after a crash) can both control it and `restart` it as `new`
// made it. 0600, created exclusively, symlinks never followed, size-limited and validated.
import { openSync, writeSync, closeSync, readSync, fstatSync, unlinkSync, constants } from "node:fs";
import { createHmac } from "node:crypto";

/** What `new` was given (python, cwd, --env): what restart starts again. */
export interface SessionSettings {
  python?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** The command prefix that reaches the agent's host (`new --via`), as argv. */
  via?: string[];
  /** Seconds an un-rejoined remote agent waits for a daemon before it ends (`--idle-ttl`). */
  idle_ttl?: number;
}

export interface AgentKey {
  secret: string;
  settings: SessionSettings;
  /** A session on another host (a `<id>.via` file): where its agent's socket is there. */
  remote?: { socket: string };
}

const MAX_KEY_FILE = 1 << 20;

export function keyPathOf(socketFile: string): string {
  return socketFile.replace(/\.sock$/, "") + ".key";
}

export function writeKey(path: string, key: AgentKey): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, JSON.stringify(key));
  } finally {
    closeSync(fd);
  }
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

/** Read and validate a key file; throws a plain message for anything missing, too big or garbled. */
export function readKey(path: string): AgentKey {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_KEY_FILE) throw new Error(`${path} is not a key file`);
    if (st.mode & 0o077) throw new Error(`${path} is open to others (mode ${(st.mode & 0o777).toString(8)})`);
    const buf = Buffer.alloc(st.size);
    for (let got = 0; got < buf.length; ) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    text = buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
  let v: any;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON`);
  }
  const s = v?.settings ?? {};
  const ok =
    typeof v?.secret === "string" &&
    /^[0-9a-f]{64}$/.test(v.secret) &&
    typeof s === "object" &&
    (s.python === undefined || typeof s.python === "string") &&
    (s.cwd === undefined || typeof s.cwd === "string") &&
    (s.env === undefined || isStringMap(s.env)) &&
    (s.via === undefined || (Array.isArray(s.via) && s.via.length > 0 && s.via.every((a: unknown) => typeof a === "string"))) &&
    (s.idle_ttl === undefined || (typeof s.idle_ttl === "number" && s.idle_ttl > 0)) &&
    (v.remote === undefined || (typeof v.remote === "object" && v.remote !== null && typeof v.remote.socket === "string" && v.remote.socket.length > 0));
  if (!ok) throw new Error(`${path} is not a valid key file`);
  const settings: SessionSettings = { python: s.python, cwd: s.cwd, env: s.env };
  if (s.via) Object.assign(settings, { via: s.via, idle_ttl: s.idle_ttl });
  return { secret: v.secret, settings, ...(v.remote ? { remote: { socket: v.remote.socket } } : {}) };
}

export function removeKey(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* gone */
  }
}

/** The proof of the secret for one connection's nonce (agent/pythond_agent/session.py checks it). */
export function proof(secretHex: string, nonce: string): string {
  return createHmac("sha256", Buffer.from(secretHex, "hex")).update(nonce, "ascii").digest("hex");
}
