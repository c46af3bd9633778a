// What the daemon's malloc mmap threshold (src/util/malloc-env.ts) costs: round trips (`hello`,
// `status`, `run x = 1`) and a 50 MB print through the SDK, one isolated daemon of this checkout
// per threshold, given the way autostart gives it (so its sessions keep glibc's default),
// interleaved in rounds so the machine's drift hits every daemon alike. Medians.
//   node bench/malloc-threshold.mjs [--thresholds 131072,32768] [--rounds N]
import { ROOT } from "../test/helpers/daemon.mjs";
import { median, daemonWithSession, optionValue } from "./stats.mjs";

const argv = process.argv.slice(2);
const opt = (name) => optionValue(argv, name);
const thresholds = (opt("--thresholds") ?? "131072,32768").split(",");
if (!thresholds.every((t) => /^[1-9][0-9]*$/.test(t))) throw new Error("--thresholds needs byte counts, comma-separated");
const rounds = Number(opt("--rounds") ?? 10);
if (!(rounds > 0)) throw new Error("--rounds needs a positive number");
const KINDS = ["hello", "status", "run", "print"];

async function start(threshold) {
  // PYTHOND_DAEMON_MALLOC marks the setting as the daemon's own: it does not pass it on.
  const { d, c } = await daemonWithSession(ROOT, { MALLOC_MMAP_THRESHOLD_: threshold, PYTHOND_DAEMON_MALLOC: "1" });
  const calls = {
    hello: () => c.request("hello"),
    status: () => c.request("status", { session: "s" }),
    run: () => c.run("s", "x = 1"),
    print: () => c.run("s", "print('x' * 50_000_000)"),
  };
  return { d, c, calls };
}

async function timed(kind, f, into) {
  const [warm, n] = kind === "print" ? [1, 3] : [20, 100];
  for (let i = 0; i < warm; i++) await f();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await f();
    into.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
}

const daemons = new Map();
const res = {};
try {
  for (const t of thresholds) daemons.set(t, await start(t));
  for (let r = 0; r < rounds; r++) {
    for (const kind of KINDS) {
      const order = [...daemons];
      if (r % 2) order.reverse();
      for (const [t, b] of order) await timed(kind, b.calls[kind], (res[`${t} ${kind}`] ??= []));
    }
  }
} finally {
  for (const b of daemons.values()) {
    b.c.close();
    await b.d.cleanup();
  }
}
console.log("| daemon's MALLOC_MMAP_THRESHOLD_ | `hello` | `status` | `run x = 1` | 50 MB print |\n|---|---:|---:|---:|---:|");
for (const t of daemons.keys()) {
  const cell = (kind) => {
    const m = median(res[`${t} ${kind}`]);
    return kind === "print" ? `${(m / 1000).toFixed(0)} ms` : `${m.toFixed(0)} µs`;
  };
  console.log(`| ${t} | ${KINDS.map(cell).join(" | ")} |`);
}
