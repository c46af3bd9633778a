// pysh int: KeyboardInterrupt for a sleeping run, a sleeping fire, a socket read and a lock
// wait; escalation (agent killed, reported) for a cell stuck in C with SIGINT blocked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startedDaemon, BIN as bin } from "./helpers/daemon.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until the session reports a running cell (generous deadline; no timing asserted). */
async function waitRunning(d, s) {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    const r = await d.pysh("status", s);
    if (r.code === 0 && JSON.parse(r.stdout).state === "running") return JSON.parse(r.stdout).running[0];
    await sleep(50);
  }
  throw new Error("no cell started running");
}

function background(d, args) {
  const p = spawn(process.execPath, [bin("pysh"), ...args], { env: d.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  p.stdout.on("data", (x) => (stdout += x));
  p.stderr.on("data", (x) => (stderr += x));
  const done = new Promise((resolve) => p.on("close", (code) => resolve({ code, stdout, stderr })));
  const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
  done.then(() => clearTimeout(timer));
  return done;
}

test("int stops a run blocked in time.sleep, a socket read and a lock wait; the namespace survives", async (t) => {
  const d = await startedDaemon(t);
  assert.equal((await d.pysh("new", "w")).code, 0);
  assert.equal((await d.pysh("run", "w", "kept = 'yes'")).code, 0);
  const blockers = {
    sleep: "import time\ntime.sleep(120)",
    socket: "import socket\na, b = socket.socketpair()\na.recv(10)",
    lock: "import threading\nlk = threading.Lock(); lk.acquire()\nlk.acquire()",
  };
  for (const [what, code] of Object.entries(blockers)) {
    const run = background(d, ["run", "w", code]);
    await waitRunning(d, "w");
    const i = await d.pysh("int", "w");
    assert.equal(i.code, 0, `${what}: ${i.stderr}`);
    assert.match(i.stdout, /stopped \(KeyboardInterrupt\).*namespace kept/, what);
    const r = await run;
    assert.equal(r.code, 1, what);
    assert.match(r.stderr, /KeyboardInterrupt/, what);
  }
  const after = await d.pysh("run", "w", "kept");
  assert.equal(after.stdout, "yes\n");
});

test("int stops a sleeping fire cell; poll shows the KeyboardInterrupt", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  const f = JSON.parse((await d.pysh("fire", "w", "import time\nprint('before')\ntime.sleep(120)")).stdout);
  assert.equal(f.status, "fired");
  await waitRunning(d, "w");
  const i = await d.pysh("int", "w");
  assert.equal(i.code, 0, i.stderr);
  assert.match(i.stdout, new RegExp(`cell ${f.cell_id} stopped`));
  const p = JSON.parse((await d.pysh("poll", "--wait", "20", "w", f.cell_id)).stdout);
  assert.equal(p.status, "done");
  assert.equal(p.error, true);
  assert.match(p.output, /^before\n[\s\S]*KeyboardInterrupt$/);
  assert.equal((await d.pysh("run", "w", "1 + 1")).stdout, "2\n");
});

test("cancel drops queued cells (fire, and a run another client waits for); a running one needs int", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  // The first cell runs until the test lets it go (a file appears): under load the checks
  // below may take longer than any fixed sleep would.
  const goDir = mkdtempSync(join(tmpdir(), "pyd-go-"));
  t.after(() => rmSync(goDir, { recursive: true, force: true }));
  const go = join(goDir, "go");
  const first = JSON.parse((await d.pysh("fire", "w", `import os, time\nwhile not os.path.exists(${JSON.stringify(go)}): time.sleep(0.02)\na = 1`)).stdout);
  const queued = JSON.parse((await d.pysh("fire", "w", "b = 2")).stdout);
  await waitRunning(d, "w");
  // A run queued behind them, named by its client so that it can be cancelled.
  const { Client } = await import("../dist/index.js");
  const client = await Client.connect({ socket: d.sock, autostart: false });
  t.after(() => client.close());
  const waiting = client.run("w", "c = 3", {}, "c0ffee000001");
  await sleep(200);
  for (const id of [queued.cell_id, "c0ffee000001"]) {
    const c = await d.pysh("cancel", "w", id);
    assert.deepEqual([c.code, c.stdout], [0, `OK cancelled ${id}\n`], c.stderr);
  }
  const running = await d.pysh("cancel", "w", first.cell_id);
  assert.equal(running.code, 1);
  assert.match(running.stderr, /is running, not queued; interrupt it with int/);
  const unknown = await d.pysh("cancel", "w", "000000000000");
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no cell '000000000000'/);
  writeFileSync(go, "");
  const r = await waiting;
  assert.deepEqual([r.ok, r.error.type], [false, "Cancelled"], "the waiting client learns it");
  const p = JSON.parse((await d.pysh("poll", "--wait", "20", "w", queued.cell_id)).stdout);
  assert.deepEqual([p.status, p.error], ["cancelled", true]);
  assert.equal((await d.pysh("run", "w", "a, 'b' in dir(), 'c' in dir()")).stdout, "(1, False, False)\n", "only the first ran");
  assert.equal((await d.pysh("cancel", "w", first.cell_id)).code, 1, "a finished cell cannot be cancelled");
});

test("int with nothing running says so", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  const i = await d.pysh("int", "w");
  assert.equal(i.code, 0);
  assert.equal(i.stdout, "OK no running cells in w\n");
});

test("a cell stuck in C with SIGINT blocked: the daemon kills the agent after the grace, says so, restart works", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "--int-grace", "1", "w");
  const pid = Number(JSON.parse((await d.pysh("status", "w")).stdout).pid);
  const run = background(d, ["run", "w", "import signal, ctypes\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\nctypes.CDLL(None).pause()"]);
  await waitRunning(d, "w");
  const i = await d.pysh("int", "--json", "w");
  assert.equal(i.code, 1);
  const rep = JSON.parse(i.stdout);
  assert.equal(rep.outcome, "escalated");
  assert.equal(rep.namespace, "lost");
  assert.match(rep.message, /ignored the interrupt for 1\.0 s.*killed the session's agent.*did not survive.*pysh restart w/);
  const r = await run;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /dead \(cell .* ignored the interrupt/);
  assert.throws(() => process.kill(pid, 0)); // the agent is gone
  const ls = JSON.parse((await d.pysh("ls", "--json")).stdout);
  assert.equal(ls[0].state, "dead");
  assert.match(ls[0].reason, /did not survive/);
  const re = await d.pysh("restart", "w");
  assert.equal(re.code, 0, re.stderr);
  assert.equal((await d.pysh("run", "w", "6 * 7")).stdout, "42\n");
});

test("per-call --grace overrides; text output of escalation goes to stderr", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  const f = JSON.parse((await d.pysh("fire", "w", "while True:\n  try:\n    import time; time.sleep(100)\n  except KeyboardInterrupt:\n    pass")).stdout);
  await waitRunning(d, "w");
  const i = await d.pysh("int", "--grace", "0.5", "w");
  assert.equal(i.code, 1);
  assert.match(i.stderr, new RegExp(`^ERR int w: cell ${f.cell_id} ignored the interrupt for 0\\.5 s`));
});
