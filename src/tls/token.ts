// The daemon's bearer token: 32 lowercase hex characters (as pythond 0.4) from the CSPRNG,
// kept in ~/.pythond/token (0600, in the 0700 ~/.pythond) so that it survives restarts and
// clients need not be re-configured each time (0.4 made a new one on every start).
// `pyctl token --rotate` replaces it; whoever holds a TokenSource (the daemon's TCP listener,
// `pyctl web`, `pythond mcp --http`) notices the new file at its next request.
import { randomBytes, createHash, timingSafeEqual } from "node:crypto";
import { openSync, readSync, closeSync, fstatSync, statSync, constants } from "node:fs";
import { join } from "node:path";
import { stateDir } from "../util/paths.js";
import { ensurePrivateDir } from "../util/private-dir.js";
import { writePrivateFile } from "../util/private-file.js";

export const TOKEN_RE = /^[0-9a-f]{32}$/;
/** A token file is one line; anything longer is not one. */
const MAX_TOKEN_FILE = 4096;

export const tokenPath = () => join(stateDir(), "token");

export class TokenError extends Error {
  override name = "TokenError";
}

/**
 * Read a token file (ours, or PYTHOND_TOKEN_FILE on a client): the first line, trimmed. With
 * mine, it must be this user's regular file (not a symlink) that nobody else may read.
 */
export function readTokenFile(path: string, { mine = false } = {}): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (mine ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new TokenError(`refusing ${path}: it is a symlink -- remove it and run: pyctl token --rotate`);
    throw new TokenError(`cannot read token file ${path}: ${code ?? (e as Error).message}`);
  }
  try {
    if (mine) {
      const st = fstatSync(fd);
      const fix = "-- remove it and run: pyctl token --rotate";
      if (!st.isFile()) throw new TokenError(`refusing ${path}: not a regular file ${fix}`);
      if (st.uid !== (process.getuid?.() ?? st.uid)) throw new TokenError(`refusing ${path}: not owned by this user ${fix}`);
      if (st.mode & 0o077) throw new TokenError(`refusing ${path}: mode ${(st.mode & 0o777).toString(8)} lets others read it (want 600) ${fix}`);
    }
    const buf = Buffer.allocUnsafe(MAX_TOKEN_FILE + 1);
    let n = 0;
    for (let k; n <= MAX_TOKEN_FILE && (k = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += k;
    if (n > MAX_TOKEN_FILE) throw new TokenError(`token file ${path} is too large to be a token`);
    return buf.subarray(0, n).toString("utf8").split("\n")[0].trim();
  } finally {
    closeSync(fd);
  }
}

export function newToken(): string {
  return randomBytes(16).toString("hex");
}

function writeToken(token: string): void {
  ensurePrivateDir(stateDir());
  writePrivateFile(tokenPath(), token + "\n", 0o600);
}

/** The persisted token, made on first use. A file holding something else is an error naming the fix. */
export function loadOrCreateToken(): { token: string; created: boolean } {
  const path = tokenPath();
  let token: string;
  try {
    token = readTokenFile(path, { mine: true });
  } catch (e) {
    if (!/ENOENT/.test((e as Error).message)) throw e;
    token = newToken();
    writeToken(token);
    return { token, created: true };
  }
  if (!TOKEN_RE.test(token)) throw new TokenError(`${path} does not hold a token (32 lowercase hex) -- replace it: pyctl token --rotate`);
  return { token, created: false };
}

export function rotateToken(): string {
  const token = newToken();
  writeToken(token);
  return token;
}

/** Constant-time equality of two secrets of any lengths (their digests are compared). */
export function secretsEqual(a: string, b: string): boolean {
  const h = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/** A token file, re-read when it changes; the last good value stays if the file goes bad. */
export class TokenSource {
  private token: string;
  private stamp = "";

  constructor(private readonly path: string, initial: string) {
    this.token = initial;
    this.stamp = this.stampNow();
  }

  private stampNow(): string {
    try {
      const st = statSync(this.path);
      return `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      return "";
    }
  }

  current(): string {
    const now = this.stampNow();
    if (now && now !== this.stamp) {
      this.stamp = now;
      try {
        const t = readTokenFile(this.path, { mine: true });
        if (TOKEN_RE.test(t)) this.token = t;
      } catch {
        /* keep the last good token */
      }
    }
    return this.token;
  }
}

/** The daemon's token (made on first use) as a source that follows `pyctl token --rotate`. */
export function daemonTokenSource(): TokenSource {
  return new TokenSource(tokenPath(), loadOrCreateToken().token);
}
