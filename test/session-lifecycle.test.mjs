// Session and daemon lifecycle: concurrency, crash isolation, re-adoption after kill -9 and
// restart, the single-instance rule, names, checkpoint files, auto-start.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { statSync, readFileSync, existsSync, mkdirSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { connect } from "node:net";
import { cli, daemonFactory, exited, ROOT } from "./helpers/daemon.mjs";

const fresh = daemonFactory(after);

const interval = (out) => out.trim().split(" ").map(Number);

test("runs on one session are serialised; two sessions run in parallel", async () => {
  const d = fresh();
  await d.start();
  await Promise.all([d.pysh("new", "a"), d.pysh("new", "b")]);
  const cell = "import time\nt0 = time.time(); time.sleep(0.6); print(t0, time.time())";
  const [a1, a2, b1] = await Promise.all([d.pysh("run", "a", cell), d.pysh("run", "a", cell), d.pysh("run", "b", cell)]);
  for (const r of [a1, a2, b1]) assert.equal(r.code, 0, r.stderr);
  const [s1, e1] = interval(a1.stdout);
  const [s2, e2] = interval(a2.stdout);
  const [s3, e3] = interval(b1.stdout);
  assert.ok(e1 <= s2 || e2 <= s1, "cells of one session never overlap");
  assert.ok(s3 < Math.max(e1, e2) && Math.min(s1, s2) < e3, "a cell of another session overlaps them");
});

test("a crashed agent is reported, isolated, listed dead and recreated by new", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "doomed");
  await d.pysh("new", "healthy");
  await d.pysh("run", "healthy", "h = 'still here'");
  const crash = await d.pysh("run", "doomed", "import os; os._exit(7)");
  assert.equal(crash.code, 1);
  assert.match(crash.stderr, /^ERR session 'doomed' dead \(exited with status 7\) -- pysh restart doomed starts it again with the same --python, --cwd and --env\n$/);
  const seg = await d.pysh("new", "--replace", "doomed");
  assert.equal(seg.code, 0);
  const segv = await d.pysh("run", "doomed", "import ctypes; ctypes.string_at(0)");
  assert.equal(segv.code, 1);
  assert.match(segv.stderr, /dead \(killed by SIGSEGV\)/);
  const ls = await d.pysh("ls");
  assert.match(ls.stdout, /  doomed: DEAD pid=\d+ \(pty\)\n/);
  assert.match(ls.stdout, /  healthy: alive pid=\d+ \(pty\)/);
  assert.equal((await d.pysh("run", "doomed", "1")).code, 1);
  assert.equal((await d.pysh("run", "healthy", "h")).stdout, "still here\n");
  const again = await d.pysh("new", "doomed");
  assert.equal(again.code, 0, "a dead session may be replaced without --replace");
  assert.equal((await d.pysh("run", "doomed", "'back'")).stdout, "back\n");
});

test("a daemon killed with -9 leaves sessions running; the next one re-adopts them", async () => {
  const d = fresh();
  const first = await d.start();
  await d.pysh("new", "keep");
  await d.pysh("run", "keep", "import sqlite3\ndb = sqlite3.connect(':memory:')\ndb.execute('create table t(v)'); db.execute('insert into t values (99)')\nmarker = [1, 2, 3]");
  const pid = JSON.parse((await d.pysh("ls", "--json")).stdout)[0].pid;
  first.kill("SIGKILL");
  await new Promise((r) => first.once("exit", r));
  process.kill(pid, 0); // the agent outlived its daemon
  await d.start();
  const r = await d.pysh("run", "keep", "marker, db.execute('select v from t').fetchone()");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "([1, 2, 3], (99,))\n");
  const ls = JSON.parse((await d.pysh("ls", "--json")).stdout);
  assert.equal(ls[0].pid, pid);
});

test("pyctl restart keeps sessions; pyctl stop ends them", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "s1");
  await d.pysh("run", "s1", "v = 'kept'");
  const pid = JSON.parse((await d.pysh("ls", "--json")).stdout)[0].pid;
  const rs = await d.pyctl("restart");
  assert.equal(rs.code, 0, rs.stderr);
  assert.equal(rs.stdout, "OK restarted (1 session re-adopted)\n");
  assert.equal((await d.pysh("run", "s1", "v")).stdout, "kept\n");
  const st = await d.pyctl("stop");
  assert.equal(st.code, 0);
  assert.equal(await exited(pid, 5000), true, "stop ends the session's agent");
  assert.equal(existsSync(d.sock), false, "stop removes its socket");
  const status = await d.pyctl("status");
  assert.equal(status.code, 1);
  assert.match(status.stdout, /alive: False/);
});

test("only one daemon per socket: a second refuses and leaves the first intact", async () => {
  const d = fresh();
  await d.start();
  const second = await cli(d.env, "pythond", ["daemon"], { timeoutMs: 15_000 });
  assert.equal(second.code, 1);
  assert.match(second.stderr, /^ERR pythond already running/m);
  await d.pysh("new", "still");
  assert.equal((await d.pysh("run", "still", "1 + 1")).stdout, "2\n");
});

test("a stale socket from a dead daemon is replaced; an insecure socket dir is refused", async () => {
  const d = fresh();
  const first = await d.start();
  first.kill("SIGKILL");
  await new Promise((r) => first.once("exit", r));
  assert.ok(existsSync(d.sock), "kill -9 leaves the socket behind");
  await d.start();
  assert.equal((await d.pyctl("status")).code, 0);
  const bad = await cli({ ...d.env, PYTHOND_SOCK: "/tmp/pythond-shared-test.sock" }, "pythond", ["daemon"], { timeoutMs: 15_000 });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^ERR refusing \/tmp: mode 777 lets others in \(want 700\)$/m);
});

test("session names follow pythond's rules", async () => {
  const d = fresh();
  await d.start();
  for (const bad of ["Upper", "a.b", "con", "com1", "lpt9", "x".repeat(81), "sp ace"]) {
    const r = await d.pysh("new", bad);
    assert.equal(r.code, 1, bad);
    assert.equal(r.stderr, "ERR invalid session name\n", bad);
  }
  for (const good of ["con-1", "a_b-9", "x".repeat(80)]) assert.equal((await d.pysh("new", good)).code, 0, good);
  const dup = await d.pysh("new", "con-1");
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /^ERR session 'con-1' already exists \(pid \d+\); use --replace to discard it\n$/);
});

test("the session limit is enforced with a clear error", async () => {
  const d = fresh({ PYTHOND_MAX_SESSIONS: "2" });
  await d.start();
  assert.equal((await d.pysh("new", "one")).code, 0);
  assert.equal((await d.pysh("new", "two")).code, 0);
  const r = await d.pysh("new", "three");
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "ERR too many sessions (max 2)\n");
});

test("checkpoint files: history.py replays, session.log has everything, modes are private", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "cp");
  await d.pysh("run", "cp", "a = 1");
  await d.pysh("run", "cp", "print(a + 1)");
  await d.pysh("run", "cp", "1/0");
  const dir = join(d.home, ".pythond", "sessions", "cp");
  for (const p of [join(d.home, ".pythond"), join(d.home, ".pythond", "sessions"), dir]) {
    assert.equal(statSync(p).mode & 0o777, 0o700, p);
  }
  for (const f of ["history.py", "session.log"]) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  const history = readFileSync(join(dir, "history.py"), "utf8");
  assert.match(history, /^\n# \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]\na = 1\n\n# \[[^\]]+\]\nprint\(a \+ 1\)\n$/);
  const log = readFileSync(join(dir, "session.log"), "utf8");
  assert.match(log, /# \[[^\]]+\] OK\nprint\(a \+ 1\)\n# > 2\n/);
  assert.match(log, /# \[[^\]]+\] ERROR\n1\/0\n# > Traceback/);
  await d.pysh("new", "cp2");
  const replay = await d.pysh("run", "cp2", `exec(open(${JSON.stringify(join(dir, "history.py"))}).read()); a`);
  assert.equal(replay.stdout, "2\n1\n");
});

test("a session agent from an older pythond (no exec wait) is re-adopted and runs cells", async (t) => {
  const d = fresh();
  const agents = `${d.sock}.d`;
  mkdirSync(agents, { mode: 0o700 });
  const old = spawn("python3", [join(ROOT, "test", "fixtures", "old_agent.py"), join(agents, "old.sock"), "legacy"], { stdio: "ignore" });
  t.after(() => old.kill());
  for (let i = 0; i < 100 && !existsSync(join(agents, "old.sock")); i++) await new Promise((r) => setTimeout(r, 20));
  await d.start();
  const r = await d.pysh("run", "legacy", "print(1)");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "ran by an old agent: print(1)\n");
});

test("the access log has pythond 0.4's grammar, stays private and is complete after stop", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "al");
  await d.pysh("run", "al", "secret_code = 'token-123'");
  await d.pysh("run", "bad name!", "1");
  assert.equal((await d.pyctl("stop")).code, 0);
  const path = join(d.run, "pythond", "access.log");
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const text = readFileSync(path, "utf8");
  assert.doesNotMatch(text, /token-123|secret_code/, "code is never logged");
  const lines = text.trim().split("\n");
  const grammar = /^ACCESS ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z event=\S+( conn_id=\d+)? peer=\S*( cmd=\S+)?( session=\S+)?( status=\S+)?( body_bytes=\d+)?( detail=\S+)?$/;
  for (const line of lines) assert.match(line, grammar);
  const events = lines.map((l) => /event=(\S+)/.exec(l)[1]);
  for (const e of ["connect", "command", "result", "disconnect"]) assert.ok(events.includes(e), e);
  assert.ok(lines.some((l) => / cmd=run session=al status=ok$/.test(l)), "a run's result line");
  assert.ok(lines.some((l) => / cmd=run session=invalid/.test(l)), "an invalid name is logged as invalid");
  assert.ok(lines.some((l) => / cmd=stop /.test(l)), "the stop request itself is logged before the daemon exits");
});

test("pysh starts a daemon when none answers, unless PYTHOND_NO_AUTOSTART=1", async () => {
  const d = fresh();
  const refused = await d.pysh("ls");
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^ERR daemon not running on .* -- start: pythond daemon\n$/);
  const started = await cli(d.env, "pysh", ["new", "auto"], { envExtra: { PYTHOND_NO_AUTOSTART: "" } });
  assert.equal(started.code, 0, started.stderr);
  assert.equal((await d.pysh("run", "auto", "6 * 7")).stdout, "42\n");
  assert.ok(existsSync(join(d.run, "pythond", "daemon.log")), "the background daemon logs to the runtime dir");
});

test("garbage on an agent's private socket cannot unseat the daemon", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "g");
  await d.pysh("run", "g", "z = 5");
  const sockDir = `${d.sock}.d`;
  const agentSock = (await import("node:fs")).readdirSync(sockDir).find((f) => f.endsWith(".sock"));
  await new Promise((resolve) => {
    const c = connect(join(sockDir, agentSock));
    c.resume(); // read (and drop) its hello so the close can be seen
    c.on("connect", () => c.end(Buffer.from("\x00\x00\x00\x08GARBAGE!\xff\xff\xff\xffmore")));
    c.on("close", resolve);
    c.on("error", resolve);
  });
  assert.equal((await d.pysh("run", "g", "z * 2")).stdout, "10\n");
});

test("output over the per-cell cap is truncated with a visible marker; the session stays healthy", async () => {
  const d = fresh({ PYTHOND_MAX_OUTPUT: "1000" });
  await d.start();
  await d.pysh("new", "cap");
  const r = await d.pysh("run", "cap", "print('y' * 5000)");
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "y".repeat(1000), "stdout keeps its own bytes: the kept 1000");
  assert.equal(r.stderr, "\n[pythond: output truncated, 4001 bytes dropped]\n", "the marker starts a line of its own");
  assert.equal((await d.pysh("run", "cap", "'next'")).stdout, "next\n");
});

test("an agent whose socket is gone (its daemon's dir was removed) exits instead of living on", async () => {
  const d = fresh({ PYTHOND_ORPHAN_CHECK: "0.2", PYTHOND_SPARE: "0" });
  const daemon = await d.start();
  await d.pysh("new", "orphan");
  const pid = JSON.parse((await d.pysh("ls", "--json")).stdout)[0].pid;
  daemon.kill("SIGKILL");
  await new Promise((r) => daemon.once("exit", r));
  (await import("node:fs")).rmSync(`${d.sock}.d`, { recursive: true, force: true });
  assert.equal(await exited(pid, 10_000), true);
});
