// history.py, session.log, access.log and daemon.log are bounded: a huge cell adds a marker,
// not its size, to each; files past PYTHOND_LOG_MAX move to <file>.1; a daemon pysh starts in
// the background does not store its access lines twice (daemon.log and access.log), while a
// daemon in the foreground still mirrors them to stderr for its supervisor.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory, cli } from "./helpers/daemon.mjs";

const make = daemonFactory(after);
const size = (p) => statSync(p).size;

test("a 6 MB cell adds a marker, not 6 MB, to history.py and session.log", async () => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "s")).code, 0);
  const big = join(d.dir, "big.py");
  writeFileSync(big, `blob = "${"x".repeat(6 * 1024 * 1024)}"\nprint(len(blob))\n`);
  const r = await d.pysh("run", "s", "-f", big);
  assert.deepEqual([r.code, r.stdout], [0, `${6 * 1024 * 1024}\n`], r.stderr);
  await d.pysh("run", "s", "small = 1");
  const dir = join(d.home, ".pythond/sessions/s");
  const history = readFileSync(join(dir, "history.py"), "utf8");
  assert.ok(size(join(dir, "history.py")) < 64 * 1024, `history.py is ${size(join(dir, "history.py"))} bytes`);
  assert.match(history, /# \[pythond: a cell of \d+ bytes is not recorded here \(over 1048576\); replay will miss it\]/);
  assert.match(history, /\nsmall = 1\n/);
  const log = readFileSync(join(dir, "session.log"), "utf8");
  assert.ok(size(join(dir, "session.log")) < 200 * 1024, `session.log is ${size(join(dir, "session.log"))} bytes`);
  assert.match(log, /# \[pythond: \d+ more bytes of code not logged\]/);
  // restart --replay still works: history.py stays small enough to replay.
  const re = await d.pysh("restart", "--replay", "s");
  assert.equal(re.code, 0, re.stderr);
  assert.equal((await d.pysh("run", "s", "small, 'blob' in dir()")).stdout, "(1, False)\n");
});

test("session.log, history.py and access.log move to .1 past PYTHOND_LOG_MAX", async () => {
  const d = make({ PYTHOND_LOG_MAX: "20000" });
  await d.start();
  assert.equal((await d.pysh("new", "s")).code, 0);
  for (let i = 0; i < 8; i++) {
    const r = await d.pysh("run", "s", `v${i} = ${i}\nprint('${"o".repeat(4000)}')`);
    assert.equal(r.code, 0, r.stderr);
  }
  const dir = join(d.home, ".pythond/sessions/s");
  for (const f of ["session.log", "history.py"]) assert.ok(size(join(dir, f)) <= 20000, `${f}: ${size(join(dir, f))}`);
  assert.ok(existsSync(join(dir, "session.log.1")));
  assert.match(readFileSync(join(dir, "session.log"), "utf8"), /^# \[pythond: earlier entries are in session\.log\.1\]\n/);
  // Many requests, sent at once: the access log rotates too, also when one 20 ms batch of its
  // lines is larger than the whole file may be (it is cut at line ends).
  const ws = await d.ws(["pythond.json.1"]);
  for (let i = 0; i < 400; i++) ws.send(JSON.stringify({ id: i, op: "hello" }));
  for (let i = 0; i < 400; i++) assert.equal(JSON.parse((await ws.next()).text).ok, true);
  ws.close();
  await new Promise((r) => setTimeout(r, 300)); // access lines are written in 20 ms batches
  const access = join(d.run, "pythond", "access.log");
  assert.ok(size(access) <= 20000, `access.log: ${size(access)}`);
  assert.ok(existsSync(`${access}.1`));
  assert.match(readFileSync(access, "utf8"), /^# \[pythond: earlier lines are in access\.log\.1\]\nACCESS /);
  // The helper keeps only the last 16 KiB of stderr, and 400 requests read at once log their
  // 400 command lines before their 400 result lines: either kind shows the mirror works.
  assert.match(d.daemon.stderrText(), /ACCESS ts=\S+ event=(command|result) conn_id=\d+ peer= cmd=hello/, "a foreground daemon mirrors to stderr");
});

test("a daemon started in the background keeps access lines in access.log only", async () => {
  const d = make();
  const r = await cli(d.env, "pysh", ["new", "bg"], { envExtra: { PYTHOND_NO_AUTOSTART: "" } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await d.pysh("run", "bg", "1 + 1")).stdout, "2\n");
  await new Promise((res) => setTimeout(res, 300));
  const runtime = join(d.run, "pythond");
  const daemonLog = readFileSync(join(runtime, "daemon.log"), "utf8");
  assert.match(daemonLog, /^pythond pid=\d+ ws:\/\//);
  assert.doesNotMatch(daemonLog, /ACCESS/);
  assert.match(readFileSync(join(runtime, "access.log"), "utf8"), /ACCESS .* cmd=run session=bg/);
});

test("the daemon's memory returns near idle after a 60 MB cell", async () => {
  const d = make();
  await d.start();
  const rssMiB = () => Number(readFileSync(`/proc/${d.daemon.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]) / 1024;
  assert.equal((await d.pysh("new", "s")).code, 0);
  assert.equal((await d.pysh("run", "s", "1")).code, 0);
  const idle = rssMiB();
  const big = join(d.dir, "big.py");
  writeFileSync(big, `b = "${"y".repeat(60_000_000)}"\nprint(len(b))\n`);
  const r = await d.pysh("run", "s", "-f", big);
  assert.equal(r.stdout, "60000000\n", r.stderr);
  // The request's copies (message, parsed code, the agent's frame) take ~4 x 60 MB while it
  // runs; once the daemon is quiet they must be given back, not kept until some later GC.
  let now = rssMiB();
  for (let i = 0; i < 60 && now > idle + 100; i++) {
    await new Promise((res) => setTimeout(res, 500));
    now = rssMiB();
  }
  assert.ok(now <= idle + 100, `RSS ${now.toFixed(0)} MiB after the cell, ${idle.toFixed(0)} MiB idle`);
});
