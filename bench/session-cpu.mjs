// The session path's cost per request, split by process: CPU time of the client (this
// process), the daemon and the session's agent, from /proc/<pid>/stat, beside the wall time.
// With --against DIR, another built checkout (e.g. the commit before a change) runs beside
// this one: each build has its own isolated daemon and its own Client, and their batches
// alternate (the order flipping each round), so the machine's drift hits both alike. CPU time
// is the figure to compare on a loaded machine: wall time there is mostly waiting for a core.
//   node bench/session-cpu.mjs [--quick] [--against DIR]
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { ROOT } from "../test/helpers/daemon.mjs";
import { checkoutsToCompare } from "./stats.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const roots = checkoutsToCompare(argv, ROOT);
const ROUNDS = quick ? 4 : 16;
const BATCH = 200;
const TICK_US = 1e4; // USER_HZ is 100 on Linux: /proc's CPU times count 10 ms ticks

/** user + system CPU of a process, in µs. */
function cpuUs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

const kinds = {
  hello: (c) => c.request("hello"), // the daemon alone
  vars: (c) => c.request("vars", { session: "b" }), // through the daemon to the agent's reader
  run: (c) => c.run("b", "x = 1"), // and on to the executor
};

const sides = [];
try {
  for (const [label, root] of Object.entries(roots)) {
    // Each build with its own harness and client: what it would be measured with alone.
    const { TestDaemon } = await import(pathToFileURL(`${root}/test/helpers/daemon.mjs`).href);
    const { Client } = await import(pathToFileURL(`${root}/dist/index.js`).href);
    const d = new TestDaemon();
    sides.push({ label, d, acc: {} });
    await d.start();
    const c = await Client.connect({ socket: d.sock, autostart: false });
    await c.request("new", { session: "b" });
    const { sessions } = await c.request("ls");
    Object.assign(sides.at(-1), { c, daemonPid: d.daemon.pid, agentPid: sessions.find((s) => s.name === "b").pid });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind, f] of Object.entries(kinds)) {
      for (const s of round % 2 ? [...sides].reverse() : sides) {
        for (let i = 0; i < 20; i++) await f(s.c); // warm this path up again after the others
        const c0 = process.cpuUsage();
        const d0 = cpuUs(s.daemonPid);
        const a0 = cpuUs(s.agentPid);
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < BATCH; i++) await f(s.c);
        const wall = Number(process.hrtime.bigint() - t0) / 1e3;
        const cu = process.cpuUsage(c0);
        const a = (s.acc[kind] ??= { n: 0, wall: 0, client: 0, daemon: 0, agent: 0 });
        a.n += BATCH;
        a.wall += wall;
        a.client += cu.user + cu.system;
        a.daemon += cpuUs(s.daemonPid) - d0;
        a.agent += cpuUs(s.agentPid) - a0;
      }
    }
  }
  console.log(`| request (${ROUNDS * BATCH} each) | build | wall (µs, mean) | CPU client / daemon / agent (µs) |`);
  console.log("|---|---|---:|---|");
  for (const kind of Object.keys(kinds)) {
    for (const s of sides) {
      const a = s.acc[kind];
      const per = (x) => (x / a.n).toFixed(0);
      console.log(`| ${kind} | ${s.label} | ${per(a.wall)} | ${per(a.client)} / ${per(a.daemon)} / ${per(a.agent)} |`);
    }
  }
} finally {
  for (const s of sides) {
    s.c?.close();
    await s.d.cleanup();
  }
}
