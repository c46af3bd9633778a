// Issue 9, item 14: the daemon's memory returns near idle after large cells. Three causes, each
// fixed (docs/PERFORMANCE.md, "Daemon memory after large cells"): the link kept the last
// request's reply alive (link-memory.test.mjs has the unit test); agent sockets were read into a
// fresh 64 KiB buffer per read; and glibc's rising mmap threshold put big buffers in a heap that
// cannot shrink, so an auto-started daemon gets a fixed threshold, which its sessions do not inherit.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory } from "./helpers/daemon.mjs";

const make = daemonFactory(after);
const environ = (pid) => readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

/** The pid of the daemon serving d's socket (the one process of ours that is node). */
function daemonPid(d) {
  const pids = d.ourPids().filter((p) => readFileSync(`/proc/${p}/cmdline`, "latin1").includes("pythond.js\0daemon"));
  assert.equal(pids.length, 1, `one daemon, found ${pids.length}`);
  return pids[0];
}

test("an auto-started daemon gets a fixed malloc mmap threshold; its sessions get glibc's default", async () => {
  const d = make({ PYTHOND_NO_AUTOSTART: "" });
  delete d.env.MALLOC_MMAP_THRESHOLD_;
  const r = await d.pysh("new", "s"); // starts the daemon in the background
  assert.equal(r.code, 0, r.stderr);
  assert.ok(environ(daemonPid(d)).includes("MALLOC_MMAP_THRESHOLD_=32768"));
  const agent = JSON.parse((await d.pysh("ls", "--json")).stdout)[0].pid;
  const env = environ(agent);
  assert.equal(env.filter((v) => /^(MALLOC_MMAP_THRESHOLD_|PYTHOND_DAEMON_MALLOC)=/.test(v)).length, 0, "the session inherited the daemon's malloc setting");
});

test("a user's own MALLOC_MMAP_THRESHOLD_ is left as it is, for the daemon and its sessions", async () => {
  const d = make({ PYTHOND_NO_AUTOSTART: "", MALLOC_MMAP_THRESHOLD_: "262144" });
  assert.equal((await d.pysh("new", "s")).code, 0);
  assert.ok(environ(daemonPid(d)).includes("MALLOC_MMAP_THRESHOLD_=262144"));
  const agent = JSON.parse((await d.pysh("ls", "--json")).stdout)[0].pid;
  assert.ok(environ(agent).includes("MALLOC_MMAP_THRESHOLD_=262144"));
});

/** The daemon's RSS once it has collected after being quiet (idle-gc.ts: 1 s, again 5 s later):
 * polled until it is at most bound MiB, or 20 s have passed. */
async function settledRss(pid, bound) {
  const until = Date.now() + 20_000;
  let now = rssMiB(pid);
  while (now > bound && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    now = rssMiB(pid);
  }
  return now;
}

test("after a 60 MB print and a 60 MB fire + poll the daemon's RSS comes back near idle", async () => {
  const d = make({ PYTHOND_NO_AUTOSTART: "" });
  assert.equal((await d.pysh("new", "s")).code, 0);
  const pid = daemonPid(d);
  assert.equal((await d.pysh("run", "s", "1")).code, 0);
  const idle = rssMiB(pid);
  assert.equal((await d.pysh("run", "s", "print('x' * 60_000_000)")).stdout.length, 60_000_001);
  const id = JSON.parse((await d.pysh("fire", "s", "print('z' * 60_000_000)")).stdout).cell_id;
  const polled = await d.pysh("poll", "--wait", "60", "s", id);
  assert.equal(polled.code, 0, polled.stderr);
  const now = await settledRss(pid, idle + 16);
  assert.ok(now <= idle + 16, `daemon RSS ${now.toFixed(0)} MiB, idle was ${idle.toFixed(0)} MiB`);
});

test("after a `run -f` of 60 MB of code the daemon's RSS comes back near idle", async () => {
  // The code arrives as one WebSocket message on a socket the HTTP server accepted, read in
  // chunks of up to 64 KiB (each partial read copied to one of its own size): below the 128 KiB
  // mmap threshold the daemon had before they stayed in the brk heap, ~57 MiB above idle for good.
  const d = make({ PYTHOND_NO_AUTOSTART: "" });
  assert.equal((await d.pysh("new", "s")).code, 0);
  const pid = daemonPid(d);
  assert.equal((await d.pysh("run", "s", "1")).code, 0);
  const idle = rssMiB(pid);
  const big = join(d.dir, "big.py");
  writeFileSync(big, `b = "${"y".repeat(60_000_000)}"\n`);
  const r = await d.pysh("run", "s", "-f", big);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await d.pysh("run", "s", "len(b)")).stdout, "60000000\n");
  const now = await settledRss(pid, idle + 16);
  assert.ok(now <= idle + 16, `daemon RSS ${now.toFixed(0)} MiB, idle was ${idle.toFixed(0)} MiB`);
});
