// fork cells: merge/skip rules, failed fork, killed fork, int kills the process group,
// and the exact 0.4 reply shapes over the legacy protocol.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { startedDaemon, ROOT as root } from "./helpers/daemon.mjs";

const WebSocket = createRequire(root + "/package.json")("ws");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function forkAndWait(d, code) {
  const f = await d.pysh("fork", "w", code);
  assert.equal(f.code, 0, f.stderr);
  const launched = JSON.parse(f.stdout);
  assert.deepEqual(Object.keys(launched), ["cell_id", "status"]);
  assert.equal(launched.status, "forked");
  assert.match(launched.cell_id, /^[0-9a-f]{12}$/);
  const p = await d.pysh("poll", "--wait", "30", "w", launched.cell_id);
  const reply = JSON.parse(p.stdout);
  assert.equal(p.code, reply.error ? 1 : 0, p.stderr); // poll of a failed cell exits 1
  return reply;
}

test("fork merges new and rebound picklable names; skips functions, classes, instances, modules, locks", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  await d.pysh("run", "w", "x = 1\nL = [1]\nunchanged = 'u'\ngone = 3");
  const r = await forkAndWait(
    d,
    "import threading, collections\nx = 2\ny = {'k': (1, 2)}\nL.append(9)\ndel gone\ndef f(): return 1\ng = lambda: 2\nclass C: pass\nc = C()\nlk = threading.Lock()\nod = collections.OrderedDict(a=1)\nprint('child says hi')",
  );
  assert.deepEqual(Object.keys(r), ["cell_id", "status", "output", "merged", "skipped"]);
  assert.equal(r.status, "done");
  assert.equal(r.output, "child says hi");
  assert.deepEqual(r.merged.sort(), ["od", "x", "y"]);
  assert.deepEqual(r.skipped.sort(), ["C", "c", "collections", "f", "g", "lk", "threading"]);
  const v = await d.pysh("run", "w", "x, y, L, unchanged, gone, 'f' in dir(), dict(od)");
  assert.equal(v.stdout, "(2, {'k': (1, 2)}, [1], 'u', 3, False, {'a': 1})\n");
});

test("a failed fork merges nothing; last writer wins over a parent assignment made meanwhile", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  const bad = await forkAndWait(d, "z = 5\nraise ValueError('nope')");
  assert.deepEqual(Object.keys(bad), ["cell_id", "status", "output", "merged", "skipped", "error"]);
  assert.deepEqual([bad.merged, bad.skipped, bad.error], [[], [], true]);
  assert.match(bad.output, /ValueError: nope$/);
  assert.equal((await d.pysh("run", "w", "'z' in dir()")).stdout, "False\n");
  // The fork assigns after the parent did: the fork's value wins.
  const f = JSON.parse((await d.pysh("fork", "w", "import time\ntime.sleep(1.5)\nv = 'fork'")).stdout);
  await d.pysh("run", "w", "v = 'parent'");
  const p = JSON.parse((await d.pysh("poll", "--wait", "30", "w", f.cell_id)).stdout);
  assert.deepEqual(p.merged, ["v"]);
  assert.equal((await d.pysh("run", "w", "v")).stdout, "fork\n");
});

test("int kills a fork and its whole process group; the fork reports (killed)", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  const f = JSON.parse(
    (await d.pysh("fork", "w", "import subprocess, time\np = subprocess.Popen(['sleep', '300'])\nprint(p.pid, flush=True)\nopen('" + d.dir + "/grandchild', 'w').write(str(p.pid))\ntime.sleep(300)")).stdout,
  );
  const { readFileSync, existsSync } = await import("node:fs");
  const until = Date.now() + 20_000;
  while (!existsSync(d.dir + "/grandchild") && Date.now() < until) await sleep(50);
  await sleep(100);
  const grandchild = Number(readFileSync(d.dir + "/grandchild", "utf8"));
  assert.ok(grandchild > 0);
  const i = await d.pysh("int", "--json", "w");
  assert.equal(i.code, 0, i.stderr);
  assert.equal(JSON.parse(i.stdout).processes, 1);
  const p = JSON.parse((await d.pysh("poll", "--wait", "20", "w", f.cell_id)).stdout);
  assert.deepEqual([p.status, p.output, p.error], ["done", "(killed)", true]);
  const gone = Date.now() + 10_000;
  let alive = true;
  while (alive && Date.now() < gone) {
    try {
      process.kill(grandchild, 0);
      await sleep(50);
    } catch {
      alive = false;
    }
  }
  assert.equal(alive, false, "the fork's grandchild survived");
  assert.equal((await d.pysh("run", "w", "1")).stdout, "1\n"); // the session itself is fine
});

test("legacy 0.4 protocol: fork/poll shapes, int texts, fork requires code", async (t) => {
  const d = await startedDaemon(t);
  const ws = new WebSocket(`ws+unix://${d.sock}:/`, ["pythond.0.4"]);
  await new Promise((res, rej) => (ws.once("open", res), ws.once("error", rej)));
  t.after(() => ws.close());
  const ask = (text) =>
    new Promise((resolve) => {
      ws.once("message", (m) => resolve(m.toString()));
      ws.send(text);
    });
  assert.match(await ask("new w"), /^OK w pid=\d+$/);
  assert.equal(await ask("fork w\n"), "ERR fork requires code");
  const launched = await ask("fork w\nq = 7\nprint('x')");
  assert.match(launched, /^\{"cell_id": "[0-9a-f]{12}", "status": "forked"\}$/);
  const id = JSON.parse(launched).cell_id;
  let polled;
  const until = Date.now() + 20_000;
  do {
    polled = await ask(`poll w ${id}`);
    if (!polled.includes('"running"')) break;
    await sleep(50);
  } while (Date.now() < until);
  assert.equal(polled, `{"cell_id": "${id}", "status": "done", "output": "x", "merged": ["q"], "skipped": []}`);
  assert.equal(await ask("int w"), "OK no running cells in w");
  await ask("fire w\nimport time; time.sleep(60)");
  const until2 = Date.now() + 20_000;
  // Every status names a "running" list; the cell has started once the state says so.
  while (JSON.parse(await ask("status w")).state !== "running" && Date.now() < until2) await sleep(50);
  assert.equal(await ask("int w"), "OK int w: 1 thread (best-effort), 0 processes (killed)");
});

test("killing the session ends its running forks too", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  await d.pysh("fork", "w", "import os, time\nopen('" + d.dir + "/forkpid', 'w').write(str(os.getpid()))\ntime.sleep(300)");
  const { readFileSync, existsSync } = await import("node:fs");
  const until = Date.now() + 20_000;
  while (!existsSync(d.dir + "/forkpid") && Date.now() < until) await sleep(50);
  await sleep(100);
  const pid = Number(readFileSync(d.dir + "/forkpid", "utf8"));
  assert.equal((await d.pysh("kill", "w")).code, 0);
  const gone = Date.now() + 10_000;
  let alive = true;
  while (alive && Date.now() < gone) {
    try {
      process.kill(pid, 0);
      await sleep(50);
    } catch {
      alive = false;
    }
  }
  assert.equal(alive, false, "the fork outlived its session");
});
