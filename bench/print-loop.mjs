// Printing in a loop (issue 9, item 4): `for i in range(N): print(i)` run by `pysh run` into
// a pipe, beside the same loop run by plain `python3 -c` into a pipe, interleaved round by
// round in one run so the machine's drift hits both alike. Target: pysh ≤ 1.5 × python3.
//   node bench/print-loop.mjs [--quick]
import { spawn, spawnSync } from "node:child_process";
import { TestDaemon, BIN } from "../test/helpers/daemon.mjs";
import { median } from "./stats.mjs";

const quick = process.argv.includes("--quick");
const N = 300_000;
const ROUNDS = quick ? 3 : 9;
const code = `for i in range(${N}): print(i)`;
const expectedBytes = Array.from({ length: N }, (_, i) => String(i).length + 1).reduce((a, b) => a + b, 0);

/** Wall time of argv with its stdout read through a pipe by this process; checks the byte count. */
function timed(argv, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "inherit"] });
    let bytes = 0;
    child.stdout.on("data", (c) => (bytes += c.length));
    child.on("close", (status) => {
      const t = Number(process.hrtime.bigint() - t0) / 1e6;
      if (status !== 0) return reject(new Error(`${argv.join(" ")} exited ${status}`));
      if (bytes !== expectedBytes) return reject(new Error(`${argv[0]}: ${bytes} bytes, expected ${expectedBytes}`));
      resolve(t);
    });
  });
}

const d = new TestDaemon();
await d.start();
try {
  if ((await d.pysh("new", "bench")).code !== 0) throw new Error("new failed");
  // The interpreter sessions use (python3 resolved as the daemon does), so both run the same.
  const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();
  const pysh = [process.execPath, BIN("pysh"), "run", "bench", code];
  const plain = [python, "-c", code];
  await timed(pysh, d.env); // warm-up: pysh's cold path, the session's first compile
  await timed(plain, d.env);
  // Also plain python3 into `cat` (a pipe no Node process reads), another floor.
  const viaCat = ["sh", "-c", '"$0" -c "$1" | cat', python, code];
  const a = [];
  const b = [];
  const c = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(await timed(plain, d.env));
    b.push(await timed(pysh, d.env));
    c.push(await timed(viaCat, d.env));
  }
  const pa = median(a);
  const pb = median(b);
  const pc = median(c);
  console.log(`print loop, ${N} lines (${expectedBytes} bytes) into a pipe, median of ${ROUNDS} interleaved rounds`);
  console.log(`  plain ${python} -c: ${pa.toFixed(0)} ms`);
  console.log(`  plain ${python} -c | cat: ${pc.toFixed(0)} ms`);
  const worst = Math.min(pa, pc);
  console.log(`  pysh run (session): ${pb.toFixed(0)} ms   ratio to the faster floor ${(pb / worst).toFixed(2)}x   target <= 1.5x: ${pb / worst <= 1.5 ? "met" : "NOT met"}`);
} finally {
  await d.cleanup();
}
