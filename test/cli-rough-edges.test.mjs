// Smaller rough edges a new user hits (issue 9, item 15), through the real CLIs and daemon.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, ROOT, startedDaemon } from "./helpers/daemon.mjs";
import { Remote, loadTool, RemoteError } from "../dist/index.js";

const daemon = (t) => startedDaemon(t);

test("bare pysh and pyctl print their usage on stderr and exit 2", async (t) => {
  const d = await daemon(t);
  for (const name of ["pysh", "pyctl", "pythond"]) {
    const r = await cli(d.env, name, []);
    assert.equal(r.code, 2, name);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, new RegExp(`^${name} \\S+ -- [\\s\\S]*usage: ${name === "pythond" ? "pythond" : name} <verb>`));
  }
  const unknown = await d.pysh("nosuchverb");
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "ERR usage: unknown verb 'nosuchverb' (see: pysh --help)\n");
  // Names every JavaScript object inherits are not verbs either.
  for (const name of ["pysh", "pyctl"]) {
    for (const verb of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      const inherited = await cli(d.env, name, [verb]);
      assert.deepEqual([inherited.code, inherited.stderr], [2, `ERR usage: unknown verb '${verb}' (see: ${name} --help)\n`], `${name} ${verb}`);
    }
  }
});

test("error hints spell the full command; ls is sorted by name", async (t) => {
  const d = await daemon(t);
  const missing = await d.pysh("run", "nosuch", "1");
  assert.equal(missing.stderr, "ERR no session 'nosuch' -- create it first with: pysh new nosuch\n");
  const restart = await d.pysh("restart", "nosuch");
  assert.match(restart.stderr, /create it first with: pysh new nosuch\n$/);
  for (const name of ["zeta", "alpha", "mid"]) assert.equal((await d.pysh("new", name)).code, 0);
  const ls = await d.pysh("ls");
  assert.deepEqual(ls.stdout.trim().split("\n").map((l) => l.trim().split(":")[0]), ["alpha", "mid", "zeta"]);
  assert.deepEqual(JSON.parse((await d.pysh("ls", "--json")).stdout).map((s) => s.name), ["alpha", "mid", "zeta"]);
});

test("a bad --cwd or --python says so; a live session is not replaced by a new that cannot start", async (t) => {
  const d = await daemon(t);
  const cwd = await d.pysh("new", "w", "--cwd", join(d.dir, "nowhere"));
  assert.equal(cwd.code, 1);
  assert.equal(cwd.stderr, `ERR failed to create session 'w': --cwd ${join(d.dir, "nowhere")}: no such directory\n`);
  writeFileSync(join(d.dir, "file"), "");
  assert.match((await d.pysh("new", "w", "--cwd", join(d.dir, "file"))).stderr, /--cwd .*file: not a directory\n$/);
  assert.match((await d.pysh("new", "w", "--python", join(d.dir, "nopython"))).stderr, /--python .*nopython: no such file\n$/);
  assert.match((await d.pysh("new", "w", "--python", "no-such-python-here")).stderr, /--python no-such-python-here: not found on PATH\n$/);
  assert.equal((await d.pysh("new", "w")).code, 0);
  await d.pysh("run", "w", "kept = 1");
  assert.equal((await d.pysh("new", "w", "--replace", "--cwd", join(d.dir, "nowhere"))).code, 1);
  assert.equal((await d.pysh("run", "w", "kept")).stdout, "1\n");
});

test("a Python older than 3.9 is refused with a message that says so", async (t) => {
  const d = await daemon(t);
  const old = join(ROOT, "test/fixtures/old-python/python3.8");
  const r = await d.pysh("new", "w", "--python", old);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ERR failed to create session 'w': .*pythond needs Python 3\.9 or newer; \S+ is Python 3\.8\.18/);
});

test("a fork that exits early reports its exit status; poll of a failed cell exits 1", async (t) => {
  const d = await daemon(t);
  await d.pysh("new", "w");
  const f = JSON.parse((await d.pysh("fork", "w", "import os; os._exit(4)")).stdout);
  const p = await d.pysh("poll", "--wait", "20", "w", f.cell_id);
  assert.equal(p.code, 1);
  const reply = JSON.parse(p.stdout);
  assert.deepEqual([reply.status, reply.output, reply.error], ["done", "(exit status 4)", true]);
  const full = JSON.parse((await d.pysh("poll", "--json", "w", f.cell_id)).stdout);
  assert.equal(full.error.type, "ForkExited");
  assert.match(full.error.message, /exit status 4/);
  const bad = JSON.parse((await d.pysh("fire", "w", "1/0")).stdout);
  const failed = await d.pysh("poll", "--wait", "20", "w", bad.cell_id);
  assert.equal(failed.code, 1);
  assert.match(JSON.parse(failed.stdout).output, /ZeroDivisionError/);
  const good = JSON.parse((await d.pysh("fire", "w", "2")).stdout);
  assert.equal((await d.pysh("poll", "--wait", "20", "w", good.cell_id)).code, 0);
});

test("input() in an agent cell fails at once, saying there is no stdin, with no agent frame", async (t) => {
  const d = await daemon(t);
  await d.pysh("new", "w");
  const r = await cli(d.env, "pysh", ["run", "w", "name = input('name? ')"], { timeoutMs: 20_000 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /EOFError: input\(\) has nothing to read: an agent cell has no stdin\. Pass one with pysh run --stdin FILE.*pysh attach w\)\n$/);
  assert.doesNotMatch(r.stderr, /pythond-agent/);
  assert.match(r.stderr, /File "<cell-1>", line 1, in <module>/);
  // Reading sys.stdin directly is still an empty stream, as before.
  assert.equal((await d.pysh("run", "w", "import sys; repr(sys.stdin.read())")).stdout, "''\n");
  // Unless the caller passes stdin: then input() and sys.stdin read it, for that cell only.
  const given = await d.pyshIn("Ada\nLovelace\n", "run", "--stdin", "-", "w", "first = input(); import sys; rest = sys.stdin.read(); print(first, rest.strip())");
  assert.equal(given.code, 0, given.stderr);
  assert.equal(given.stdout, "Ada Lovelace\n");
  writeFileSync(join(d.dir, "answers"), "42\n");
  assert.equal((await d.pysh("run", "--stdin", join(d.dir, "answers"), "w", "int(input()) + 1")).stdout, "43\n");
  assert.equal((await d.pysh("run", "w", "input()")).code, 1);
  assert.equal((await d.pyshIn("1", "run", "--stdin", "-", "w", "-")).code, 2);
});

test("tool tracebacks show the tool's frames, not the agent's", async (t) => {
  const r = await Remote.spawn(["python3"]);
  t.after(() => r.close());
  const dir = (await import("node:fs")).mkdtempSync(join((await import("node:os")).tmpdir(), "pyd-tool-"));
  t.after(() => (import("node:fs").then((fs) => fs.rmSync(dir, { recursive: true, force: true }))));
  const file = join(dir, "deep.py");
  writeFileSync(file, "from rmote.protocol import Tool\n\ndef helper(n):\n    raise ValueError('deep %d' % n)\n\nclass Deep(Tool):\n    @staticmethod\n    def go(n: int) -> int:\n        return helper(n)\n\n    @staticmethod\n    async def later(n: int) -> int:\n        return helper(n)\n");
  const Deep = await loadTool(file, "Deep");
  for (const method of [Deep.go, Deep.later]) {
    await assert.rejects(r.call(method, 3), (e) => {
      assert.ok(e instanceof RemoteError);
      assert.match(e.remoteTraceback, /^Traceback \(most recent call last\):\n  File ".*deep\.py", line \d+, in (go|later)\n[\s\S]*in helper\n[\s\S]*ValueError: deep 3\n$/);
      assert.doesNotMatch(e.remoteTraceback, /pythond-agent/);
      return true;
    });
  }
});
