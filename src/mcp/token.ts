// The bearer token of `pythond mcp --http`: ~/.pythond/mcp-token, 32 random bytes as hex,
// made on first use, 0600 in the 0700 state dir. Refused if someone else could read it.
import { openSync, readFileSync, writeSync, closeSync, fstatSync, constants } from "node:fs";
import { join } from "node:path";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { stateDir } from "../util/paths.js";
import { ensurePrivateDir } from "../util/private-dir.js";

export const tokenPath = () => join(stateDir(), "mcp-token");

export function loadOrCreateToken(path = tokenPath()): string {
  ensurePrivateDir(stateDir());
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (st.uid !== process.getuid?.() || st.mode & 0o077) throw new Error(`refusing ${path}: it must be yours and mode 600`);
      if (st.size > 4096) throw new Error(`refusing ${path}: larger than a token`);
    } finally {
      closeSync(fd);
    }
    const token = readFileSync(path, "utf8").trim();
    if (token.length < 32) throw new Error(`refusing ${path}: token shorter than 32 characters`);
    return token;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const token = randomBytes(32).toString("hex");
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, token + "\n");
  } finally {
    closeSync(fd);
  }
  return token;
}

/** Constant-time comparison (digests first, so lengths leak nothing either). */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
