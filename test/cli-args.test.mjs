// The command line as people type it (issue 9, item 9): options anywhere, "--", refused dash
// names, usage errors with exit 2 — through the real bin/pysh and bin/pyctl against a real daemon.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { startedDaemon } from "./helpers/daemon.mjs";

const daemon = (t) => startedDaemon(t);

test("options after the session name, as the user guide writes them", async (t) => {
  const d = await daemon(t);
  const proj = join(d.dir, "proj");
  mkdirSync(proj);
  const py = realpathSync("/usr/bin/python3"); // not the default python3 (pyenv): --python is honoured
  const made = await d.pysh("new", "work", "--python", py, "--cwd", proj, "--env", "K=V", "--env", "L=W");
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^OK work pid=\d+\n$/);
  const seen = await d.pysh("run", "work", "import os, sys; os.getcwd(), os.environ['K'], os.environ['L'], sys.executable");
  assert.equal(seen.stdout, `(${JSON.stringify(proj).replace(/"/g, "'")}, 'V', 'W', '${py}')\n`);
  await d.pysh("run", "work", "x = 41");
  const re = await d.pysh("restart", "work", "--replay");
  assert.equal(re.code, 0, re.stderr);
  assert.match(re.stdout, /^OK work pid=\d+ replayed 2 of 2 cells\n$/);
  assert.equal((await d.pysh("run", "work", "x + 1")).stdout, "42\n");
  const int = await d.pysh("int", "work", "--grace", "2");
  assert.equal(int.code, 0, int.stderr);
  assert.equal(int.stdout, "OK no running cells in work\n");
  const fired = JSON.parse((await d.pysh("fire", "work", "y = x * 2")).stdout);
  const polled = await d.pysh("poll", "work", fired.cell_id, "--wait", "20");
  assert.equal(polled.code, 0, polled.stderr);
  assert.equal(JSON.parse(polled.stdout).status, "done");
  assert.equal((await d.pysh("status", "work", "--json")).code, 0);
  assert.equal((await d.pysh("kill", "work", "--json")).stdout, '{"killed":"work"}\n');
});

test('names beginning with "-" are refused; "--" ends options; mistakes are usage errors (exit 2)', async (t) => {
  const d = await daemon(t);
  for (const args of [["new", "-x"], ["new", "-"], ["new", "--", "-x"], ["run", "-x", "1"], ["kill", "-"], ["poll", "--", "-w"]]) {
    const r = await d.pysh(...args);
    assert.equal(r.code, 2, `pysh ${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^ERR usage: pysh \w+: (unknown option -x|a session name cannot begin with "-" \(got "-\w?"\))\nusage: pysh \w+ /);
  }
  const unknown = await d.pysh("new", "work", "--pyhton", "x");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^ERR usage: pysh new: unknown option --pyhton\nusage: pysh new \[--replace\]/);
  const missing = await d.pysh("int", "work", "--grace");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--grace needs a value/);
  const bad = await d.pysh("int", "work", "--grace", "soon");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--grace wants seconds/);
  // After the session name of run, everything is code: "--1" is Python's -(-1), "--timeout" too.
  await d.pysh("new", "s");
  const code = await d.pysh("run", "s", "--1");
  assert.deepEqual([code.code, code.stdout], [0, "1\n"]);
  const opt = await d.pysh("run", "s", "--timeout");
  assert.equal(opt.code, 1);
  assert.match(opt.stderr, /NameError: name 'timeout' is not defined/);
  const help = await d.pysh("new", "work", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: pysh new /);
  // Nothing above created a session named like an option.
  assert.equal((await d.pysh("ls")).stdout, "  s: alive pid=" + JSON.parse((await d.pysh("status", "s")).stdout).pid + " (pty)\n");
});

test("pyctl verbs use the same parser", async (t) => {
  const d = await daemon(t);
  const st = await d.pyctl("status", "--json");
  assert.equal(st.code, 0, st.stderr);
  assert.equal(JSON.parse(st.stdout).alive, true);
  const bad = await d.pyctl("status", "--bogus");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^ERR usage: pyctl status: unknown option --bogus\n/);
  const extra = await d.pyctl("stop", "now");
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /pyctl stop: takes no arguments/);
});
