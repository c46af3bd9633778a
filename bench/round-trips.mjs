// Round trips on an open structured connection (issue 16): `hello` (daemon only), `status` and
// `vars` (daemon -> agent reader thread), `run x = 1` (and the executor), beside the hop floor
// (bench/floors/), for this checkout and, with --against DIR, another built checkout: one
// isolated daemon per build, each with its own SDK client, interleaved in rounds of 100 so the
// machine's drift hits every build and floor alike. Medians; ratios are to the hop floor.
//   node bench/round-trips.mjs [--against DIR] [--rounds N]
import { ROOT } from "../test/helpers/daemon.mjs";
import { startChain } from "./floors/chain.mjs";
import { median, daemonWithSession, checkoutsToCompare, optionValue } from "./stats.mjs";

const argv = process.argv.slice(2);
const opt = (name) => optionValue(argv, name);
const roots = checkoutsToCompare(argv, ROOT);
const rounds = Number(opt("--rounds") ?? 10);
if (!(rounds > 0)) throw new Error("--rounds needs a positive number");
const KINDS = ["hello", "status", "vars", "run"];

async function start(root) {
  const { d, c } = await daemonWithSession(root);
  const calls = {
    hello: () => c.request("hello"),
    status: () => c.request("status", { session: "s" }),
    vars: () => c.request("vars", { session: "s" }),
    run: () => c.run("s", "x = 1"),
  };
  return { d, c, calls };
}

async function timed(f, into) {
  for (let i = 0; i < 20; i++) await f(); // warm this path up again after the others
  for (let i = 0; i < 100; i++) {
    const t0 = process.hrtime.bigint();
    await f();
    into.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
}

const builds = {};
const chain = await startChain();
const floor = [];
const res = {};
try {
  for (const [k, root] of Object.entries(roots)) builds[k] = await start(root);
  for (let r = 0; r < rounds; r++) {
    for (const kind of KINDS) {
      const order = Object.entries(builds);
      if (r % 2) order.reverse();
      for (const [k, b] of order) await timed(b.calls[kind], (res[`${k} ${kind}`] ??= []));
      await timed(() => chain.roundTrip(), floor);
    }
  }
} finally {
  chain.close();
  for (const b of Object.values(builds)) {
    b.c.close();
    await b.d.cleanup();
  }
}
const f = median(floor);
console.log(`hop floor (client -> Node relay -> Python echo -> back): ${f.toFixed(0)} µs (median of ${floor.length})\n`);
console.log(`| build | ${KINDS.map((k) => (k === "run" ? "run `x = 1`" : k)).join(" | ")} |\n|---|${KINDS.map(() => "---:").join("|")}|`);
for (const k of Object.keys(builds)) {
  console.log(`| ${k} | ${KINDS.map((kind) => { const m = median(res[`${k} ${kind}`]); return `${m.toFixed(0)} µs (${(m / f).toFixed(1)}×)`; }).join(" | ")} |`);
}
