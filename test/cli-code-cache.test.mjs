// bin/pysh runs its bundle with a V8 code cache (src/cli/code-cache.ts): one cache file per verb,
// written by the first call, reused by later ones, rewritten when the bundle changes or V8
// refuses it. Runs a copy of bin/ + dist/ in a temp dir, so the checkout's caches stay out of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, readFileSync, writeFileSync, appendFileSync, existsSync, statSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers/daemon.mjs";

function copyPysh() {
  const dir = mkdtempSync(join(tmpdir(), "pyd-cache-"));
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "dist"));
  for (const f of ["bin/pysh", "bin/package.json", "dist/pysh.cjs", "dist/code-cache.cjs", "package.json"]) copyFileSync(join(ROOT, f), join(dir, f));
  return dir;
}

const pysh = (dir, ...args) => spawnSync(process.execPath, [join(dir, "bin", "pysh"), ...args], { encoding: "utf8", timeout: 30_000, env: { ...process.env, PYTHOND_NO_AUTOSTART: "1" } });
const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;

test("the first call of a verb writes its cache, later calls use it unchanged", () => {
  const dir = copyPysh();
  try {
    const cache = join(dir, "dist", "pysh.cjs.version.cache");
    assert.equal(existsSync(cache), false);
    const first = pysh(dir, "version");
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, new RegExp(version.replace(/\./g, "\\.")));
    const text = readFileSync(cache, "latin1");
    const stamp = text.slice(0, text.indexOf("\n"));
    const st = statSync(join(dir, "dist", "pysh.cjs"));
    assert.equal(stamp, `${process.version} ${process.arch} ${st.size} ${st.mtimeMs} ${st.ino}`);
    assert.ok(text.length > stamp.length + 1000, "the cache holds V8 data after the stamp");
    const written = statSync(cache).mtimeMs;
    const second = pysh(dir, "version");
    assert.equal(second.stdout, first.stdout);
    assert.equal(statSync(cache).mtimeMs, written, "an accepted cache is not rewritten");
    // Another verb gets its own file; arguments that are not a plain word share one.
    assert.equal(pysh(dir, "--help").status, 0);
    assert.ok(existsSync(join(dir, "dist", "pysh.cjs.other.cache")));
    assert.deepEqual(readdirSync(join(dir, "dist")).filter((f) => f.endsWith(".tmp")), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a rebuilt bundle or a cache V8 refuses is replaced, never run", () => {
  const dir = copyPysh();
  try {
    const cache = join(dir, "dist", "pysh.cjs.version.cache");
    assert.equal(pysh(dir, "version").status, 0);
    // A changed bundle: its stamp no longer matches, so the old cache is not used.
    appendFileSync(join(dir, "dist", "pysh.cjs"), '\nprocess.stdout.write("rebuilt\\n");\n');
    const after = pysh(dir, "version");
    assert.equal(after.status, 0, after.stderr);
    assert.match(after.stdout, /rebuilt/);
    const st = statSync(join(dir, "dist", "pysh.cjs"));
    assert.ok(readFileSync(cache, "latin1").startsWith(`${process.version} ${process.arch} ${st.size} `));
    // Garbage after a matching stamp: V8 rejects it, the call still works, the file is remade.
    const stamp = readFileSync(cache, "latin1").split("\n")[0];
    writeFileSync(cache, Buffer.concat([Buffer.from(stamp + "\n"), Buffer.alloc(5000, 0x5a)]));
    const garbage = pysh(dir, "version");
    assert.equal(garbage.status, 0, garbage.stderr);
    assert.match(garbage.stdout, /rebuilt/);
    assert.notEqual(readFileSync(cache).subarray(stamp.length + 1, stamp.length + 100).toString("latin1"), "Z".repeat(99));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
