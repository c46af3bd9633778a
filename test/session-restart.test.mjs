// Session lifecycle: restart (--replay), a virtualenv session, ls --json, rich outputs,
// display(), and visible eviction of old results under the size cap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startedDaemon } from "./helpers/daemon.mjs";

test("restart gives a fresh interpreter; --replay re-runs history.py", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "--env", "MARK=m1", "w");
  await d.pysh("run", "w", "a = 20\ndef twice(v): return 2 * v");
  await d.pysh("run", "w", "raise RuntimeError('not in history')");
  await d.pysh("run", "w", "b = twice(a) + 2");
  const pid0 = JSON.parse((await d.pysh("status", "w")).stdout).pid;
  const plain = await d.pysh("restart", "w");
  assert.match(plain.stdout, /^OK w pid=\d+\n$/);
  assert.notEqual(Number(plain.stdout.match(/pid=(\d+)/)[1]), pid0);
  assert.equal((await d.pysh("run", "w", "'a' in dir(), os.environ['MARK']")).stdout, "(False, 'm1')\n");
  const re = await d.pysh("restart", "--replay", "w");
  assert.equal(re.code, 0, re.stderr);
  assert.match(re.stdout, /^OK w pid=\d+ replayed 3 of 3 cells\n$/);
  assert.equal((await d.pysh("run", "w", "a, b")).stdout, "(20, 42)\n");
  // The replay itself is not appended to history.py again.
  const hist = readFileSync(join(d.home, ".pythond/sessions/w/history.py"), "utf8");
  assert.equal(hist.split("b = twice(a) + 2").length - 1, 1);
  assert.equal((await d.pysh("restart", "nosuch")).code, 1);
});

test("a virtualenv session uses the venv's interpreter and sees its packages only", async (t) => {
  const d = await startedDaemon(t);
  const venv = join(d.dir, "venv");
  const mk = spawnSync("python3", ["-m", "venv", "--without-pip", venv], { encoding: "utf8" });
  assert.equal(mk.status, 0, mk.stderr);
  const site = spawnSync(join(venv, "bin/python"), ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], { encoding: "utf8" }).stdout.trim();
  mkdirSync(site, { recursive: true });
  writeFileSync(join(site, "only_in_venv.py"), "WHERE = 'venv'\n");
  const work = join(d.dir, "work");
  mkdirSync(work);
  const n = await d.pysh("new", "--python", join(venv, "bin/python"), "--cwd", work, "--env", "K=V", "v");
  assert.equal(n.code, 0, n.stderr);
  await d.pysh("new", "plain");
  const r = await d.pysh("run", "v", "import only_in_venv, sys\nprint(only_in_venv.WHERE, sys.prefix == sys.base_prefix, os.getcwd(), os.environ['K'])");
  assert.equal(r.stdout, `venv False ${work} V\n`);
  const p = await d.pysh("run", "plain", "import only_in_venv");
  assert.equal(p.code, 1);
  assert.match(p.stderr, /ModuleNotFoundError/);
  const ls = JSON.parse((await d.pysh("ls", "--json")).stdout);
  const v = ls.find((s) => s.name === "v");
  assert.equal(v.executable, join(venv, "bin/python"));
  assert.equal(v.cwd, work);
  for (const k of ["pid", "state", "running", "last_activity", "memory", "python"]) assert.ok(k in v, k);
  assert.ok(v.memory > 0);
  // restart keeps interpreter, cwd and env
  await d.pysh("restart", "v");
  assert.equal((await d.pysh("run", "v", "import only_in_venv; os.getcwd(), os.environ['K']")).stdout, `('${work}', 'V')\n`);
});

test("an image value is saved as PNG and reported; display() works in the namespace", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  await d.pysh("run", "w", "class Img:\n  def _repr_png_(self): return b'\\x89PNG\\r\\n\\x1a\\nfake'\n  def __repr__(self): return 'Img()'");
  const text = await d.pysh("run", "w", "Img()");
  const m = text.stdout.match(/^\[image: (.+\.png)\]\n$/);
  assert.ok(m, text.stdout);
  assert.ok(m[1].startsWith(join(d.home, ".pythond/sessions/w/")));
  assert.equal(readFileSync(m[1]).subarray(0, 4).toString("latin1"), "\x89PNG");
  const j = await d.pysh("run", "--json", "w", "Img()");
  const last = JSON.parse(j.stdout.trim().split("\n").pop());
  assert.equal(last.images.length, 1);
  assert.ok(existsSync(last.images[0]));
  const disp = await d.pysh("run", "w", "display(Img(), 'plain', 3)");
  assert.match(disp.stdout, /^\[image: .+\.png\]\nplain\n3\n$/);
  assert.equal((await d.pysh("run", "w", "[1]")).stdout, "[1]\n"); // ordinary values unchanged
});

test("old results are evicted under the size cap, and the eviction is reported", async (t) => {
  const d2 = await startedDaemon(t, undefined, { env: { PYTHOND_RETAIN_BYTES: "4000" } }); // sessions inherit it
  await d2.pysh("new", "w");
  const first = JSON.parse((await d2.pysh("fire", "w", "print('x' * 3000)")).stdout);
  await d2.pysh("poll", "--wait", "20", "w", first.cell_id);
  await d2.pysh("run", "w", "print('y' * 3000)");
  const gone = await d2.pysh("poll", "w", first.cell_id);
  assert.deepEqual(JSON.parse(gone.stdout), { cell_id: first.cell_id, status: "error", output: "evicted" });
  const st = JSON.parse((await d2.pysh("status", "w")).stdout);
  assert.equal(st.evicted, 1);
});
