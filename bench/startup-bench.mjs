// Start-up costs (issue 16): an idle daemon's RSS and a one-shot `pysh run <s> "1"` beside
// `node -e 0`, for this checkout and, with --against DIR, another built checkout (e.g. main),
// interleaved call by call in one run so the machine's drift hits both alike.
//   node bench/startup-bench.mjs [--quick] [--against DIR]
// Each build gets its own isolated daemon (temp HOME, XDG_RUNTIME_DIR, PYTHOND_SOCK).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TestDaemon, ROOT } from "../test/helpers/daemon.mjs";
import { median, checkoutsToCompare } from "./stats.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const roots = checkoutsToCompare(argv, ROOT);
const N = quick ? 15 : 60;
const memory = (pid) => {
  const r = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(r)[1]);
  return { rss: kb("Rss") / 1024, private: (kb("Private_Clean") + kb("Private_Dirty")) / 1024 };
};

async function startDaemon(root) {
  const d = new TestDaemon();
  await d.start({ root });
  return d;
}

// CPU time of our waited-for children (user + system, in clock ticks of 10 ms): summed over
// many calls it is a steadier measure than wall time on a loaded machine.
const childCpuMs = () => {
  const f = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(f[13]) + Number(f[14])) * 10;
};

function wall(args, env, cpu) {
  const c0 = childCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  cpu.push(childCpuMs() - c0);
  return t;
}

const daemons = {};
const res = {};
try {
  for (const [k, root] of Object.entries(roots)) {
    daemons[k] = await startDaemon(root);
    res[k] = { cold: [], cpu: [], rss: [], private: [] };
  }
  // Idle daemon memory: started, no request yet (1.5 s to settle), several starts per build.
  for (let i = 0; i < (quick ? 2 : 4); i++) {
    for (const [k, root] of Object.entries(roots)) {
      const d = i === 0 ? daemons[k] : await startDaemon(root);
      await new Promise((r) => setTimeout(r, 1500));
      const m = memory(d.daemon.pid);
      res[k].rss.push(m.rss);
      res[k].private.push(m.private);
      if (i > 0) await d.cleanup();
    }
  }
  for (const [k, d] of Object.entries(daemons)) {
    const r = spawnSync(process.execPath, [join(roots[k], "bin", "pysh"), "new", "s"], { env: d.env });
    if (r.status !== 0) throw new Error(`pysh new: ${r.stderr}`);
  }
  const floor = [];
  const floorCpu = [];
  for (let i = 0; i < N; i++) {
    floor.push(wall(["-e", "0"], process.env, floorCpu));
    for (const [k, root] of Object.entries(roots)) res[k].cold.push(wall([join(root, "bin", "pysh"), "run", "s", "1"], daemons[k].env, res[k].cpu));
  }
  const f = median(floor);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`node -e 0: ${f.toFixed(1)} ms wall (median of ${N}), ${mean(floorCpu).toFixed(1)} ms CPU (mean)\n`);
  console.log("| build | idle daemon RSS (private) | one-shot `pysh run s \"1\"`, wall (median) | over `node -e 0` | CPU per call (mean) | over `node -e 0` |\n|---|---:|---:|---:|---:|---:|");
  for (const [k, r] of Object.entries(res)) {
    const cpu = mean(r.cpu);
    console.log(`| ${k} | ${median(r.rss).toFixed(1)} MiB (${median(r.private).toFixed(1)}) | ${median(r.cold).toFixed(1)} ms | +${(median(r.cold) - f).toFixed(1)} ms | ${cpu.toFixed(1)} ms | +${(cpu - mean(floorCpu)).toFixed(1)} ms |`);
  }
} finally {
  for (const d of Object.values(daemons)) await d.cleanup();
}
