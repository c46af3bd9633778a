// Session start and idle footprint (issue 2): `new` to ready with the warm spare agent
// (daemon/spare.ts) and without it (PYTHOND_SPARE=0), measured in the same run, alternating.
//   node bench/session-start.mjs [--quick]
// "spaced": one `new` + first `run` every 300 ms (the spare has had time to start: the usual case).
// "back to back": `new --replace` in a tight loop, bounded by how fast agents start.
// Idle RSS: a fresh default session, 1 s after its creation; floor: a bare `python3 -qui`.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { TestDaemon } from "../test/helpers/daemon.mjs";
import { Client } from "../dist/index.js";
import { median } from "./stats.mjs";

const quick = process.argv.includes("--quick");
const n = quick ? 8 : 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;

async function newToReady(client, name) {
  const t0 = process.hrtime.bigint();
  await client.request("new", { session: name, replace: true });
  await client.run(name, "1");
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const daemons = { spare: new TestDaemon(), "no spare": new TestDaemon({ PYTHOND_SPARE: "0" }) };
const res = {};
try {
  const clients = {};
  for (const [k, d] of Object.entries(daemons)) {
    await d.start();
    clients[k] = await Client.connect({ socket: d.sock, autostart: false });
    await clients[k].request("new", { session: "warmup" });
    res[k] = { spaced: [], b2b: [] };
  }
  for (let i = 0; i < n; i++) {
    for (const k of Object.keys(daemons)) {
      await sleep(300);
      res[k].spaced.push(await newToReady(clients[k], "s"));
    }
  }
  for (const k of Object.keys(daemons)) {
    await sleep(300);
    for (let i = 0; i < n; i++) res[k].b2b.push(await newToReady(clients[k], "b"));
  }
  for (const k of Object.keys(daemons)) {
    await sleep(300);
    await clients[k].request("new", { session: "idle", replace: true });
    await sleep(1000);
    const { sessions } = await clients[k].request("ls");
    res[k].rss = rssMiB(sessions.find((s) => s.name === "idle").pid);
    clients[k].close();
  }
  const py = spawn(process.env.PYTHOND_PYTHON || "python3", ["-qui"], { stdio: ["pipe", "ignore", "ignore"] });
  await sleep(1000);
  res.floorRss = rssMiB(py.pid);
  py.kill();
} finally {
  for (const d of Object.values(daemons)) await d.cleanup();
}
const f = (x) => x.toFixed(1);
console.log("| measure (median) | with spare | PYTHOND_SPARE=0 | target |\n|---|---:|---:|---|");
console.log(`| new + first run, spaced 300 ms | ${f(median(res.spare.spaced))} ms | ${f(median(res["no spare"].spaced))} ms | ≤ 80 ms |`);
console.log(`| new --replace + first run, back to back | ${f(median(res.spare.b2b))} ms | ${f(median(res["no spare"].b2b))} ms | |`);
console.log(`| idle session RSS | ${f(res.spare.rss)} MiB | ${f(res["no spare"].rss)} MiB | ≤ 16 MiB (bare python3 -qui: ${f(res.floorRss)} MiB) |`);
