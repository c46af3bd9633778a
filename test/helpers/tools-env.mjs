// Shared helpers for the tools tests: fixture paths, a python3 that exists, temp dirs.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..", "..");
export const fixtures = join(root, "test", "fixtures", "tools");

/** The real interpreter (not a pyenv shim), so timings and pids are the agent's own. */
export const PYTHON = (() => {
  try {
    return execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
  } catch {
    return "python3";
  }
})();

export function tempDir(t, prefix = "pythond-tools-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
