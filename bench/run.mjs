// `npm run bench`: every benchmark, one after another, each in its quick mode and under a
// deadline, so the whole run stays bounded in time. Figures go to docs/PERFORMANCE.md from the
// full runs (`--full`, or each bench's own command).
//
// Usage: npm run bench [-- [--full] [--timeout SECONDS] [NAME...]]
//   NAME      only these benches (tools, async, session, session-start, attach-echo, scaling, startup, burst, files, round-trips)
//   --full    the benches' full runs instead of --quick
//   --timeout deadline per bench in seconds (default 600); a bench past it is stopped
// Exit status: 0 every bench finished, 1 one failed or ran out of time, 2 bad usage.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const BENCHES = [
  { name: "tools", file: "tools-bench.mjs", quick: ["--quick"] },
  { name: "async", file: "async-bench.mjs", quick: ["--quick"] },
  { name: "session", file: "session-bench.mjs", quick: ["--quick"] },
  { name: "session-start", file: "session-start.mjs", quick: ["--quick"] },
  { name: "attach-echo", file: "attach-echo.mjs", quick: ["100"], full: ["300"] },
  { name: "scaling", file: "scaling-bench.mjs", quick: ["--quick"] },
  { name: "startup", file: "startup-bench.mjs", quick: ["--quick"] },
  { name: "burst", file: "burst.mjs", quick: ["--quick"] },
  { name: "files", file: "files-bench.mjs", quick: ["--quick"] },
  { name: "round-trips", file: "round-trips.mjs", quick: ["--rounds", "3"] },
];
const USAGE = `usage: npm run bench [-- [--full] [--timeout SECONDS] [NAME...]]\n  names: ${BENCHES.map((b) => b.name).join(", ")}\n`;

function parse(argv) {
  const opts = { full: false, timeoutS: 600, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") return process.stdout.write(USAGE), null;
    if (a === "--full") opts.full = true;
    else if (a === "--timeout") {
      opts.timeoutS = Number(argv[++i]);
      if (!(opts.timeoutS > 0 && Number.isFinite(opts.timeoutS))) throw new Error("--timeout needs a positive number of seconds");
    } else if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
    else if (!BENCHES.some((b) => b.name === a)) throw new Error(`no bench named ${a}`);
    else opts.names.push(a);
  }
  return opts;
}

/** Run one bench in its own process group; stop the group at the deadline. */
function runOne(bench, args, timeoutS) {
  if (!existsSync(join(here, bench.file))) {
    return Promise.resolve({ name: bench.name, status: `missing: bench/${bench.file}`, ok: false, seconds: 0 });
  }
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(here, bench.file), ...args], { stdio: "inherit", detached: true });
    let timedOut = false;
    const stop = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop("SIGTERM");
      setTimeout(() => stop("SIGKILL"), 5000).unref();
    }, timeoutS * 1000);
    const onInterrupt = () => stop("SIGTERM");
    process.once("SIGINT", onInterrupt);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      process.off("SIGINT", onInterrupt);
      const seconds = (performance.now() - started) / 1000;
      const status = timedOut ? `stopped after ${timeoutS} s` : signal ? `killed by ${signal}` : code === 0 ? "ok" : `failed (exit ${code})`;
      resolve({ name: bench.name, status, ok: !timedOut && code === 0, seconds });
    });
  });
}

let opts;
try {
  opts = parse(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`bench: ${e.message}\n${USAGE}`);
  process.exit(2);
}
if (opts) {
  if (!existsSync(join(here, "..", "dist", "index.js"))) {
    process.stderr.write("bench: dist/ is missing: run `npm run build` first\n");
    process.exit(1);
  }
  const chosen = BENCHES.filter((b) => !opts.names.length || opts.names.includes(b.name));
  const results = [];
  for (const b of chosen) {
    const args = opts.full ? (b.full ?? []) : b.quick;
    process.stdout.write(`\n## ${b.name}: node bench/${b.file}${args.length ? " " + args.join(" ") : ""}\n\n`);
    results.push(await runOne(b, args, opts.timeoutS));
  }
  process.stdout.write("\n| Bench | Result | Seconds |\n|---|---|---:|\n");
  for (const r of results) process.stdout.write(`| ${r.name} | ${r.status} | ${r.seconds.toFixed(1)} |\n`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}
