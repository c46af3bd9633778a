// The web page's token: 32 hex digits from the CSPRNG, kept in a 0600 file in a 0700 dir under
// the daemon's state dir (~/.pythond/web/token), created on first use. One function reads it so
// the page can later share the daemon's own token file by changing this file alone.
import { randomBytes, createHash, createHmac, timingSafeEqual } from "node:crypto";
import { openSync, readSync, closeSync, fstatSync, writeFileSync, linkSync, unlinkSync, constants } from "node:fs";
import { join } from "node:path";
import { stateDir } from "../util/paths.js";
import { ensurePrivateDir } from "../util/private-dir.js";

export const TOKEN_PATTERN = /^[0-9a-f]{32}$/;

export class TokenFileError extends Error {
  override name = "TokenFileError";
}

export function tokenPath(): string {
  return join(stateDir(), "web", "token");
}

function readToken(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new TokenFileError(`refusing ${path}: it is a symlink`);
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TokenFileError(`refusing ${path}: not a regular file`);
    if (st.uid !== (process.getuid?.() ?? st.uid)) throw new TokenFileError(`refusing ${path}: not owned by this user`);
    if (st.mode & 0o077) throw new TokenFileError(`refusing ${path}: mode ${(st.mode & 0o777).toString(8)} lets others read it (want 600)`);
    const buf = Buffer.alloc(128);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString("latin1").trim();
    if (!TOKEN_PATTERN.test(text)) throw new TokenFileError(`${path} does not hold a token (32 hex digits); remove it and a new one is made`);
    return text;
  } finally {
    closeSync(fd);
  }
}

/** The token, created (atomically: written aside, then linked into place) if there is none. */
export function webToken(): string {
  const path = tokenPath();
  ensurePrivateDir(join(stateDir()));
  ensurePrivateDir(join(stateDir(), "web"));
  const existing = readToken(path);
  if (existing) return existing;
  const fresh = randomBytes(16).toString("hex");
  const aside = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(aside, fresh + "\n", { mode: 0o600, flag: "wx" });
  try {
    linkSync(aside, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // another process made one first: use it
  } finally {
    unlinkSync(aside);
  }
  return readToken(path)!;
}

/** Constant-time equality of two secrets of any lengths (their digests are compared). */
export function secretsEqual(a: string, b: string): boolean {
  const h = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/** The session cookie's value: derived from the token, so it is not the token and ends with it. */
export function cookieValue(token: string): string {
  return createHmac("sha256", token).update("pythond web cookie v1").digest("hex");
}
