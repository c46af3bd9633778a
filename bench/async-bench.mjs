// Async-cell benchmarks on one open connection to an isolated daemon:
//   1. interrupt latency of a cell in time.sleep (int request -> cell reported done)
//   2. streaming output throughput of one cell (bytes counted, must match exactly)
//   3. fire + poll --wait round trip
// Floors measured in the same run: a status request round trip; SIGINT to a bare python3 in
// time.sleep (until it exits); a bare python3 writing the same bytes to a pipe Node reads.
// Usage: npm run build && node bench/async-bench.mjs [--quick]
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "../dist/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const INT_N = quick ? 7 : 21;
const RT_N = quick ? 50 : 200;
const STREAM_MIB = quick ? 128 : 512;

const dir = mkdtempSync(join(tmpdir(), "pythond-async-bench-"));
mkdirSync(join(dir, "home"), { mode: 0o700 });
mkdirSync(join(dir, "run"), { mode: 0o700 });
const sock = join(dir, "run", "pythond.sock");
const env = { ...process.env, HOME: join(dir, "home"), XDG_RUNTIME_DIR: join(dir, "run"), PYTHOND_SOCK: sock, PYTHOND_NO_AUTOSTART: "1", PYTHOND_MAX_OUTPUT: String(1 << 30) };
const daemon = spawn(process.execPath, [join(root, "bin/pythond"), "daemon"], { env, stdio: "ignore" });
try {
  for (let i = 0; !existsSync(sock); i++) {
    if (i > 300) throw new Error("daemon did not start");
    await sleep(25);
  }
  const c = await Client.connect({ socket: sock, autostart: false });
  await c.request("new", { session: "b" });
  await c.run("b", "1");

  // 1. interrupt latency
  const intMs = [];
  for (let i = 0; i < INT_N; i++) {
    let queued;
    const started = new Promise((r) => (queued = r));
    const run = c.run("b", "import time\nprint('go', flush=True)\ntime.sleep(60)", { output: () => queued() });
    await started;
    await sleep(20);
    const t0 = performance.now();
    const [, r] = await Promise.all([c.request("int", { session: "b", wait: false }), run]);
    intMs.push(performance.now() - t0);
    if (r.error?.type !== "KeyboardInterrupt") throw new Error("not interrupted: " + JSON.stringify(r));
  }
  const statusMs = [];
  for (let i = 0; i < RT_N; i++) {
    const t0 = performance.now();
    await c.request("status", { session: "b" });
    statusMs.push(performance.now() - t0);
  }
  const bareIntMs = [];
  for (let i = 0; i < Math.min(INT_N, 7); i++) {
    const p = spawn("python3", ["-c", "import sys,time\nsys.stdout.write('go\\n'); sys.stdout.flush()\ntry:\n  time.sleep(60)\nexcept KeyboardInterrupt:\n  pass"], { stdio: ["ignore", "pipe", "ignore"] });
    await new Promise((r) => p.stdout.once("data", r));
    await sleep(20);
    const t0 = performance.now();
    const exited = new Promise((r) => p.on("exit", r));
    p.kill("SIGINT");
    await exited;
    bareIntMs.push(performance.now() - t0);
  }

  // 2. streaming throughput (one cell, 1 MiB writes), exact byte count
  const total = STREAM_MIB << 20;
  let got = 0;
  const t0 = performance.now();
  const sr = await c.run("b", `import os\nb = b'x' * (1 << 20)\nfor _ in range(${STREAM_MIB}):\n    os.write(1, b)`, { output: (_s, d) => (got += d.length) });
  const streamS = (performance.now() - t0) / 1000;
  if (!sr.ok || got !== total || sr.dropped) throw new Error(`stream lost bytes: got ${got} of ${total}, dropped ${sr.dropped}`);
  let bare = 0;
  const t1 = performance.now();
  await new Promise((resolve) => {
    const p = spawn("python3", ["-c", `import os\nb = b'x' * (1 << 20)\nfor _ in range(${STREAM_MIB}):\n    os.write(1, b)`], { stdio: ["ignore", "pipe", "ignore"] });
    p.stdout.on("data", (d) => (bare += d.length));
    p.on("close", resolve);
  });
  const bareS = (performance.now() - t1) / 1000;
  if (bare !== total) throw new Error("bare pipe lost bytes");

  // 3. fire + poll --wait round trip, and run of the same cell
  const firePollMs = [];
  const runMs = [];
  for (let i = 0; i < RT_N; i++) {
    let t = performance.now();
    const f = await c.request("fire", { session: "b", code: "1" });
    const p = await c.request("poll", { session: "b", cell: f.cell_id, wait: 10 });
    firePollMs.push(performance.now() - t);
    if (p.state !== "done") throw new Error("poll --wait returned early");
    t = performance.now();
    await c.run("b", "1");
    runMs.push(performance.now() - t);
  }
  c.close();

  const f2 = (x) => x.toFixed(2);
  const rows = [
    ["interrupt latency, sleeping cell, median (ms)", f2(median(intMs)), `bare python3 SIGINT->exit ${f2(median(bareIntMs))}; status RTT ${f2(median(statusMs))}`, "<= 100"],
    [`streaming throughput, ${STREAM_MIB} MiB in one cell (MB/s), bytes verified`, (total / 1e6 / streamS).toFixed(0), `bare python3 -> pipe -> node ${(total / 1e6 / bareS).toFixed(0)}`, ">= 200"],
    ["fire + poll --wait round trip, median (ms)", f2(median(firePollMs)), `run of the same cell ${f2(median(runMs))}`, "-"],
  ];
  console.log("| Measure | pythond | floor / peer (same run) | Target |\n|---|---:|---|---|");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
  console.log(JSON.stringify({ intMs: median(intMs), bareIntMs: median(bareIntMs), statusMs: median(statusMs), streamMBs: total / 1e6 / streamS, bareMBs: total / 1e6 / bareS, firePollMs: median(firePollMs), runMs: median(runMs), n: { INT_N, RT_N, STREAM_MIB } }));
} finally {
  daemon.kill("SIGTERM");
  await new Promise((r) => (daemon.exitCode !== null ? r() : daemon.on("exit", r)));
  rmSync(dir, { recursive: true, force: true });
}
