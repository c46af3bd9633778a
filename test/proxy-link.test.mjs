// A proxy's link that drops: through a TCP relay the test cuts, mid-cell. The cell runs on at
// the remote, the waiting pysh gets its result after the reconnect (the cell id survives, the
// output arrives once); status says reconnecting with the last error meanwhile. And the remote
// daemon itself restarting (its sessions re-adopted there): the proxy reconnects.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { daemonFactory, cli } from "./helpers/daemon.mjs";
import { listeningRemote, connectTo, relay } from "./helpers/proxy-env.mjs";

const newDaemon = daemonFactory(after);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let R, L, remote, cutter;
before(async () => {
  R = newDaemon();
  remote = await listeningRemote(R);
  cutter = await relay(remote.port);
  L = newDaemon();
  await L.start();
  const c = await connectTo(L, "work", `127.0.0.1:${cutter.port}`, remote);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await L.pysh("new", "work")).code, 0);
});
after(() => cutter?.close());

async function until(f, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(100);
  }
}

test("the link is cut mid-cell: the cell finishes remotely, pysh gets its output once and its result", async () => {
  const code = "import time\nprint('before', flush=True)\ntime.sleep(3)\nprint('after')\n'value'";
  const running = cli(L.env, "pysh", ["run", "--json", "work", code]);
  // wait until the cell is running on the remote, then cut every connection through the relay
  await until(async () => JSON.parse((await R.pysh("status", "--json", "work")).stdout).state === "running");
  await sleep(300);
  cutter.cut();
  const st = await until(async () => {
    const s = JSON.parse((await L.pysh("status", "--json", "work")).stdout);
    return s.proxy.state === "reconnecting" ? s : null;
  });
  assert.equal(st.state, "unreachable");
  assert.equal(typeof st.proxy.last_error, "string");
  assert.equal(typeof st.proxy.since, "number");
  const ls = await L.pysh("ls");
  assert.match(ls.stdout, /work: -> 127\.0\.0\.1:\d+ tls \(remote\) reconnecting/);
  await sleep(1000);
  cutter.heal();
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const result = lines.find((l) => "ok" in l);
  assert.equal(result.ok, true);
  assert.equal(result.value, "value");
  const text = lines.filter((l) => l.stream).map((l) => l.text).join("");
  assert.equal(text, "before\nafter\nvalue\n", "each byte once");
  // the same cell, known to the remote by the id pysh chose
  const cells = JSON.parse((await R.pysh("cells", "--json", "work")).stdout);
  assert.equal(cells.cells.filter((c) => c.cell_id === result.cell_id).length, 1);
  assert.equal(JSON.parse((await L.pysh("status", "--json", "work")).stdout).proxy.state, "connected");
});

test("the remote daemon restarts (its sessions re-adopted there): the proxy reconnects and the namespace is kept", async () => {
  assert.equal((await L.pysh("run", "work", "survivor = 'still here'")).code, 0);
  const restarted = await R.pyctl("restart");
  assert.equal(restarted.code, 0, restarted.stderr);
  const r = await until(async () => {
    const x = await L.pysh("run", "work", "survivor");
    return x.code === 0 ? x : null;
  }, 30_000);
  assert.equal(r.stdout, "still here\n");
  assert.equal(JSON.parse((await L.pysh("status", "--json", "work")).stdout).proxy.state, "connected");
});

test("a link that goes silent (no close, no bytes) is found by the ping, reported, and made again once the path is back", { timeout: 120_000 }, async () => {
  cutter.freeze();
  const quiet = JSON.parse((await L.pysh("status", "--json", "work")).stdout);
  assert.equal(quiet.state, "unreachable", "status answers within its deadline while the link is silent");
  assert.equal(typeof quiet.proxy.address, "string");
  const st = await until(async () => {
    const s = JSON.parse((await L.pysh("status", "--json", "work")).stdout);
    return s.proxy.state === "reconnecting" ? s : null;
  }, 40_000);
  assert.match(st.proxy.last_error, /timed out|closed/);
  cutter.heal();
  const r = await until(async () => {
    const x = await L.pysh("run", "work", "'back'");
    return x.code === 0 ? x : null;
  }, 40_000);
  assert.equal(r.stdout, "back\n");
});
