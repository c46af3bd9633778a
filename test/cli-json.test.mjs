// --json means JSON on every path (issue 9, item 11): usage errors, daemon errors, no daemon,
// a daemon that dies mid-cell — one {"error": {"type", "message"}} object on stdout, with the
// cell id whenever a cell exists, and the usual exit status.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { TestDaemon, BIN, startedDaemon } from "./helpers/daemon.mjs";

const lastJson = (text) => JSON.parse(text.trim().split("\n").pop());

const daemon = (t) => startedDaemon(t);

test("usage errors and daemon errors are JSON with --json", async (t) => {
  const d = await daemon(t);
  const cases = [
    [["new", "--json", "--bogus", "w"], 2, "usage", /unknown option --bogus/],
    [["new", "w", "--json", "--env", "novalue"], 2, "usage", /--env wants K=V/],
    [["run", "--json", "nosuch", "1"], 1, "no_session", /no session 'nosuch'/],
    [["run", "--json", "s", "-f", "/no/such/file.py"], 1, "io", /cannot read \/no\/such\/file\.py: ENOENT/],
    [["poll", "--json", "nosuch"], 1, "no_session", /no session/],
    [["int", "--json", "nosuch"], 1, "no_session", /no session/],
    [["restart", "--json", "nosuch"], 1, "no_session", /no session/],
    [["status", "--json", "nosuch"], 1, "no_session", /no session/],
    [["kill", "--json", "nosuch"], 1, "no_session", /no session/],
    [["fire", "--json", "nosuch", "1"], 1, "no_session", /no session/],
    [["cancel", "--json", "nosuch", "000000000000"], 1, "no_session", /no session/],
    [["ls", "--json", "extra"], 2, "usage", /takes no arguments/],
  ];
  for (const [args, code, type, message] of cases) {
    const r = await d.pysh(...args);
    assert.equal(r.code, code, `pysh ${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr, "", `pysh ${args.join(" ")}`);
    const o = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(o.error).sort(), ["message", "type"]);
    assert.equal(o.error.type, type, `pysh ${args.join(" ")}`);
    assert.match(o.error.message, message);
  }
  await d.pysh("new", "s");
  const dup = await d.pysh("new", "s", "--json");
  assert.equal(dup.code, 1);
  assert.equal(JSON.parse(dup.stdout).error.type, "exists");
  const made = JSON.parse((await d.pysh("new", "t", "--json")).stdout);
  assert.equal(made.name, "t");
});

test("no daemon: a JSON connect error", async (t) => {
  const d = new TestDaemon(); // never started; autostart is off in tests
  t.after(() => d.cleanup());
  const r = await d.pysh("ls", "--json");
  assert.equal(r.code, 1);
  const o = JSON.parse(r.stdout);
  assert.equal(o.error.type, "connect");
  assert.match(o.error.message, /daemon not running/);
});

test("a session that dies mid-cell and a daemon that dies mid-cell are JSON errors with the cell id", async (t) => {
  const d = await daemon(t);
  await d.pysh("new", "s");
  const dead = await d.pysh("run", "--json", "s", "import os; os._exit(3)");
  assert.equal(dead.code, 1);
  const o = lastJson(dead.stdout);
  assert.equal(o.error.type, "session_dead");
  assert.match(o.cell_id, /^[0-9a-f]{12}$/);

  await d.pysh("restart", "s");
  const child = spawn(process.execPath, [BIN("pysh"), "run", "--json", "s", "import time\nprint('started', flush=True)\ntime.sleep(60)"], { env: d.env });
  let out = "";
  child.stdout.on("data", (x) => (out += x));
  const exited = new Promise((r) => child.on("close", r));
  const until = Date.now() + 20_000;
  while (!out.includes("started") && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  assert.match(out, /started/);
  d.daemon.kill("SIGKILL");
  assert.equal(await exited, 1);
  const e = lastJson(out);
  assert.equal(e.error.type, "connection_lost");
  assert.match(e.error.message, /daemon closed the connection/);
  assert.match(e.cell_id, /^[0-9a-f]{12}$/);
});
