// A burst (Promise.all over 20,000 calls made in one turn) beside 64 calls in flight, on one
// connection, in alternating rounds; with the CPU each side spent per call and how long the
// caller's loop took to make the burst (issue 9 item 19). Figures: docs/PERFORMANCE.md.
// Usage: npm run build && node bench/burst.mjs [--quick] [--rounds N]
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Remote, loadTool } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const at = argv.indexOf("--rounds");
const rounds = at >= 0 ? Number(argv[at + 1]) : argv.includes("--quick") ? 3 : 11;
if (!(Number.isInteger(rounds) && rounds > 0)) {
  process.stderr.write("usage: node bench/burst.mjs [--quick] [--rounds N]\n");
  process.exit(2);
}
const N = 20_000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** CPU milliseconds of every thread of a process (schedstat: nanoseconds on the CPU). */
const agentCpuMs = (pid) => {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      /* the thread ended */
    }
  }
  return ns / 1e6;
};
const nodeCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const B = await loadTool(join(here, "tools", "bench_tool.py"), "Bench");
const r = await Remote.spawn(["/usr/bin/python3"]);
for (let i = 0; i < 2000; i++) await r.call(B.noop);

async function measure(run) {
  const a0 = agentCpuMs(r.pid);
  const n0 = nodeCpuMs();
  const t = performance.now();
  const loopMs = await run(t);
  return { ms: performance.now() - t, loopMs, agentMs: agentCpuMs(r.pid) - a0, nodeMs: nodeCpuMs() - n0 };
}
const inflight = () =>
  measure(async () => {
    let sent = 0;
    const worker = async () => {
      while (sent < N) {
        sent++;
        await r.call(B.noop);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    return 0;
  });
const burst = () =>
  measure(async (t) => {
    const calls = new Array(N);
    for (let i = 0; i < N; i++) calls[i] = r.call(B.noop);
    const loopMs = performance.now() - t;
    await Promise.all(calls);
    return loopMs;
  });

const res = { inflight64: [], burst: [] };
for (let k = 0; k < rounds; k++) {
  res.inflight64.push(await inflight());
  res.burst.push(await burst());
}
await r.close();
const out = {};
for (const [mode, rs] of Object.entries(res)) {
  out[mode] = {
    calls_per_s: Math.round(N / (median(rs.map((x) => x.ms)) / 1000)),
    loop_us_per_call: +((median(rs.map((x) => x.loopMs)) * 1000) / N).toFixed(2),
    agent_cpu_us_per_call: +((median(rs.map((x) => x.agentMs)) * 1000) / N).toFixed(2),
    node_cpu_us_per_call: +((median(rs.map((x) => x.nodeMs)) * 1000) / N).toFixed(2),
  };
}
out.burst_over_64 = +(out.burst.calls_per_s / out.inflight64.calls_per_s).toFixed(2);
console.log(`| Mode (medians of ${rounds} rounds of ${N} calls) | calls/s | loop µs/call | agent CPU µs/call | Node CPU µs/call |`);
console.log("|---|---:|---:|---:|---:|");
for (const [name, k] of [["64 in flight", "inflight64"], ["burst of 20,000", "burst"]]) {
  const o = out[k];
  console.log(`| ${name} | ${o.calls_per_s} | ${k === "burst" ? o.loop_us_per_call : "—"} | ${o.agent_cpu_us_per_call} | ${o.node_cpu_us_per_call} |`);
}
console.log(`\nburst / 64 in flight: ${out.burst_over_64}`);
console.log("JSON " + JSON.stringify(out));
