// The daemon's bearer token: 32 lowercase hex characters (as pythond 0.4) from the CSPRNG,
// kept in ~/.pythond/token (0600, in the 0700 ~/.pythond) so that it survives restarts and
// clients need not be re-configured each time (0.4 made a new one on every start).
// `pyctl token --rotate` replaces it; a running daemon notices the new file (auth.ts).
import { randomBytes } from "node:crypto";
import { openSync, readSync, closeSync, constants } from "node:fs";
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

/** Read a token file (ours, or PYTHOND_TOKEN_FILE on a client): the first line, trimmed. */
export function readTokenFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (e) {
    throw new TokenError(`cannot read token file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
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
    token = readTokenFile(path);
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
