// How cost grows (issue 16): per-request cost against the number of sessions and of cells kept,
// fork of a large namespace beside a bare os.fork, and many clients at once.
//   node bench/scaling-bench.mjs [--quick]
// Starts its own isolated daemon (temp HOME, XDG_RUNTIME_DIR, PYTHOND_SOCK) and ends it and
// every agent at the end; every wait has a deadline (the whole run is stopped after 20 min).
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { TestDaemon, BIN } from "../test/helpers/daemon.mjs";
import { Client } from "../dist/index.js";

const quick = process.argv.includes("--quick");
const COUNTS = quick ? [1, 10, 100] : [1, 10, 100, 300];
const MANY_CELLS = quick ? 20_000 : 100_000;
const FIRED = quick ? 2_000 : 10_000;
const FORK_BYTES = quick ? 256 * 2 ** 20 : 2 ** 30;
const RT_N = quick ? 200 : 500;

const deadline = setTimeout(() => {
  console.error("scaling-bench: past its 20 minute deadline, stopping");
  process.exit(1);
}, 20 * 60_000);
deadline.unref();

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const pct = (xs, p) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))];
};
const median = (xs) => pct(xs, 50);
const us = (t0) => Number(process.hrtime.bigint() - t0) / 1e3;
const f = (x, d = 0) => x.toFixed(d);

async function timeEach(n, fn) {
  for (let i = 0; i < 20; i++) await fn(i); // warm this path up
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    out.push(us(t0));
  }
  return out;
}

function timeCommand(argv, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  const t = us(t0) / 1e3;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  return t;
}

/** Run `count` requests with at most `width` in flight. */
async function pipelined(count, width, fn) {
  let next = 0;
  const lane = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: width }, lane));
}

const d = new TestDaemon({ PYTHOND_MAX_SESSIONS: "400" });
await d.start();
const rows = [];
const row = (...cells) => {
  rows.push(cells);
  console.error(`  ${cells.join(" | ")}`);
};
try {
  const client = await Client.connect({ socket: d.sock, autostart: false });

  // 1. run round trip and ls with 1 … 300 idle sessions (session s0 is the one timed).
  let made = 0;
  for (const n of COUNTS) {
    while (made < n) {
      await client.request("new", { session: `s${made}` });
      made++;
    }
    await client.run("s0", "x = 1");
    const run = await timeEach(RT_N, () => client.run("s0", "x = 1"));
    const ls = await timeEach(quick ? 20 : 50, () => client.request("ls"));
    const lsCli = [];
    for (let i = 0; i < (quick ? 5 : 10); i++) lsCli.push(timeCommand([process.execPath, BIN("pysh"), "ls"], d.env));
    row(`${n} idle session${n > 1 ? "s" : ""}`, `run \`x = 1\`: ${f(median(run))} µs (p99 ${f(pct(run, 99))})`, `\`ls\` request: ${f(median(ls))} µs (${f(median(ls) / n, 1)} µs/session)`, `\`pysh ls\`: ${f(median(lsCli), 1)} ms`);
  }
  for (let i = 1; i < made; i++) await client.request("kill", { session: `s${i}` });

  // 2. run after many cells in one session (history, session.log, cell store).
  await client.request("new", { session: "long" });
  const marks = quick ? [0, 2_000, 20_000] : [0, 10_000, 100_000];
  let ran = 0;
  for (const m of marks) {
    await pipelined(m - ran, 16, (i) => client.run("long", `v = ${i}`));
    ran = m;
    const run = await timeEach(RT_N, () => client.run("long", "x = 1"));
    const status = await timeEach(RT_N / 2, () => client.request("status", { session: "long" }));
    row(`after ${m.toLocaleString("en")} cells in one session`, `run \`x = 1\`: ${f(median(run))} µs (p99 ${f(pct(run, 99))})`, `status: ${f(median(status))} µs`, "");
  }

  // 3. poll with many finished fire cells kept.
  await client.request("new", { session: "fired" });
  const fmarks = quick ? [1, FIRED] : [1, 1_000, FIRED];
  let fired = 0;
  let last;
  for (const m of fmarks) {
    const ids = [];
    await pipelined(m - fired, 16, async () => ids.push((await client.request("fire", { session: "fired", code: "y = 2" })).cell_id));
    fired = m;
    last = ids.at(-1) ?? last;
    await client.request("poll", { session: "fired", cell: last, wait: 60 });
    const poll = await timeEach(RT_N, () => client.request("poll", { session: "fired", cell: last }));
    const latest = await timeEach(RT_N / 2, () => client.request("poll", { session: "fired" }));
    row(`poll with ${m.toLocaleString("en")} finished fire cells`, `poll <cell>: ${f(median(poll))} µs (p99 ${f(pct(poll, 99))})`, `poll (latest): ${f(median(latest))} µs`, "");
  }

  // 4. fork of a session whose namespace holds a large object, beside a bare os.fork.
  await client.request("new", { session: "big" });
  const forkOnce = async () => {
    const t0 = process.hrtime.bigint();
    const { cell_id } = await client.request("fork", { session: "big", code: "z = 3" });
    const r = await client.request("poll", { session: "big", cell: cell_id, wait: 120 });
    if (r.state !== "done" || !r.ok) throw new Error(`fork failed: ${JSON.stringify(r).slice(0, 300)}`);
    return us(t0) / 1e3;
  };
  const forkSmall = [];
  for (let i = 0; i < 5; i++) forkSmall.push(await forkOnce());
  const fill = `blob = bytearray(${FORK_BYTES}); blob[::4096] = b"x" * len(blob[::4096])`;
  await client.run("big", fill);
  // The floor: os.fork of a python3 holding the same object (the child exits at once, the
  // parent waits for it), one per line asked, interleaved with the session's forks.
  const bare = spawn("python3", ["-u", "-c", `import os, sys, time\n${fill}\nfor _ in sys.stdin:\n    t = time.perf_counter(); p = os.fork()\n    if p == 0: os._exit(0)\n    os.waitpid(p, 0); print((time.perf_counter() - t) * 1e3)`], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: bare.stdout })[Symbol.asyncIterator]();
  const bareFork = async () => {
    bare.stdin.write("\n");
    const { value, done } = await lines.next();
    if (done) throw new Error("the bare fork floor ended");
    return Number(value);
  };
  const forkBig = [];
  const forkFloor = [];
  for (let i = 0; i < (quick ? 5 : 11); i++) {
    forkFloor.push(await bareFork());
    forkBig.push(await forkOnce());
  }
  bare.kill();
  const mib = FORK_BYTES / 2 ** 20;
  row(`fork, namespace holding ${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`}`, `fork + poll to done: ${f(median(forkBig), 1)} ms`, `small namespace: ${f(median(forkSmall), 1)} ms`, `bare \`os.fork\` + waitpid, same size, interleaved: ${f(median(forkFloor), 1)} ms`);
  await client.request("kill", { session: "big" });

  // 5. 50 clients running cells on 10 sessions at once.
  for (let i = 0; i < 10; i++) await client.request("new", { session: `c${i}`, replace: true });
  const clients = await Promise.all(Array.from({ length: 50 }, () => Client.connect({ socket: d.sock, autostart: false })));
  const lat = [];
  const seconds = quick ? 5 : 15;
  const until = Date.now() + seconds * 1000;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    clients.map(async (c, i) => {
      while (Date.now() < until) {
        const t = process.hrtime.bigint();
        await c.run(`c${i % 10}`, "x = 1");
        lat.push(us(t));
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const c of clients) c.close();
  row("50 clients, 10 sessions, `x = 1` in a loop", `${f(lat.length / secs)} runs/s`, `median ${f(median(lat))} µs, p99 ${f(pct(lat, 99))} µs`, `${seconds} s, ${lat.length} runs`);
  client.close();
} finally {
  await d.cleanup();
}
console.log("| measure | | | |\n|---|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
