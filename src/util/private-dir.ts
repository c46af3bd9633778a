// Private (0700) directories: created if missing, never chmod-ed if someone else made them,
// refused if they are not ours or are open to others.
import { lstatSync, mkdirSync, chmodSync } from "node:fs";
import { dirname } from "node:path";

export class InsecureDirError extends Error {
  override name = "InsecureDirError";
}

export function ensurePrivateDir(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    const parent = dirname(path);
    if (parent !== path) ensureDirExists(parent);
    try {
      mkdirSync(path, { mode: 0o700 });
      chmodSync(path, 0o700); // umask may have narrowed or widened nothing; be exact
      return;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code !== "EEXIST") throw e2;
      st = lstatSync(path);
    }
  }
  if (st.isSymbolicLink()) throw new InsecureDirError(`refusing ${path}: it is a symlink`);
  if (!st.isDirectory()) throw new InsecureDirError(`refusing ${path}: not a directory`);
  const me = process.getuid?.() ?? st.uid;
  if (st.uid !== me) throw new InsecureDirError(`refusing ${path}: owned by uid ${st.uid}, not ${me}`);
  if (st.mode & 0o077) {
    throw new InsecureDirError(`refusing ${path}: mode ${(st.mode & 0o777).toString(8)} lets others in (want 700)`);
  }
}

/** Parents of private dirs only need to exist; they are not ours to tighten. */
function ensureDirExists(path: string): void {
  try {
    lstatSync(path);
  } catch {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  }
}
