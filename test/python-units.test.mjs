// The agent's Python unit tests (test/python/, `python3 -m unittest`), run by `npm test` under
// each interpreter we promise: the python3 on PATH and Debian's /usr/bin/python3 when it is
// another one. PYTHOND_TEST_PYTHONS (colon-separated paths) adds more, e.g. a 3.9.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers/daemon.mjs";

/** The interpreter a command name runs, or undefined if there is none. */
function resolve(python) {
  const r = spawnSync(python, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8", timeout: 30_000 });
  return r.status === 0 ? realpathSync(r.stdout.trim()) : undefined;
}

const candidates = ["python3", ...(existsSync("/usr/bin/python3") ? ["/usr/bin/python3"] : []), ...(process.env.PYTHOND_TEST_PYTHONS ?? "").split(":").filter(Boolean)];
const pythons = new Map();
for (const p of candidates) {
  const exe = resolve(p);
  if (exe === undefined) throw new Error(`${p}: no Python interpreter runs`);
  if (![...pythons.values()].includes(exe)) pythons.set(p, exe);
}

for (const [python, exe] of pythons) {
  test(`python -m unittest test/python with ${python} (${exe})`, () => {
    const r = spawnSync(python, ["-m", "unittest", "discover", "-s", join(ROOT, "test", "python"), "-t", join(ROOT, "test", "python")], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    const report = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, report);
    const ran = /^Ran (\d+) tests? /m.exec(report);
    assert.ok(ran && Number(ran[1]) >= 30, `too few tests ran:\n${report}`);
    assert.doesNotMatch(report, /skipped|expected failures/, report);
  });
}
