// Session benchmarks (issue 2): CLI cold path, run round trip on an open connection,
// new-to-ready, idle RSS, and a 50 MB print end to end. Floors are measured in the same run.
//   node bench/session-bench.mjs [--quick]
import { spawnSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { TestDaemon, BIN } from "../test/helpers/daemon.mjs";
import { Client } from "../dist/index.js";
import { startChain } from "./floors/chain.mjs";
import { median, timeCommand } from "./stats.mjs";

const quick = process.argv.includes("--quick");
const ms = (ns) => Number(ns) / 1e6;
const fmt = (x, d = 1) => x.toFixed(d);

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m[1]) / 1024;
}

const d = new TestDaemon();
await d.start();
const rows = [];
try {
  const client = await Client.connect({ socket: d.sock, autostart: false });

  // new to ready, over an open connection (SDK) and through the CLI.
  const newSdk = [];
  for (let i = 0; i < (quick ? 5 : 15); i++) {
    const t0 = process.hrtime.bigint();
    await client.request("new", { session: "n", replace: true });
    await client.run("n", "1");
    newSdk.push(ms(process.hrtime.bigint() - t0));
  }
  const newCli = [];
  for (let i = 0; i < (quick ? 5 : 15); i++) newCli.push(timeCommand([process.execPath, BIN("pysh"), "new", "--replace", "c"], d.env));

  // Idle RSS of a fresh session, per interpreter, beside that interpreter alone.
  const idle = [];
  for (const python of ["python3", "/usr/bin/python3"]) {
    const which = spawnSync(python, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
    if (which.status !== 0) continue;
    const exe = which.stdout.trim();
    await client.request("new", { session: "idle", replace: true, python: exe });
    // The interpreter alone, started as agents are (`-u -c`), waiting on stdin.
    const bare = spawn(exe, ["-u", "-c", "import sys; sys.stdin.read()"], { stdio: ["pipe", "ignore", "ignore"] });
    await new Promise((r) => setTimeout(r, 1000));
    const { sessions } = await client.request("ls");
    idle.push({ exe, session: rssMiB(sessions.find((s) => s.name === "idle").pid), bare: rssMiB(bare.pid) });
    bare.kill();
  }

  // One-shot CLI wall time beside node -e 0, interleaved.
  await client.request("new", { session: "cold", replace: true });
  const cold = [];
  const nodeFloor = [];
  for (let i = 0; i < (quick ? 10 : 40); i++) {
    nodeFloor.push(timeCommand([process.execPath, "-e", "0"], d.env));
    cold.push(timeCommand([process.execPath, BIN("pysh"), "run", "cold", "1"], d.env));
  }

  // Round trips on one open connection, interleaved in rounds with their floors so that the
  // machine's drift (large on a shared 2-core VM) hits all of them alike.
  const chain = await startChain();
  const kinds = {
    chain: () => chain.roundTrip(),
    hello: () => client.request("hello"),
    vars: () => client.request("vars", { session: "cold" }),
    run: () => client.run("cold", "x = 1"),
    runNew: (i) => client.run("cold", `x = ${i}`), // a cell never seen before: compiled afresh
  };
  const rt = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  let seq = 0;
  for (let round = 0; round < (quick ? 4 : 20); round++) {
    for (const [k, f] of Object.entries(kinds)) {
      for (let i = 0; i < 20; i++) await f(seq++); // warm this path up again after the others
      for (let i = 0; i < 100; i++) {
        const t0 = process.hrtime.bigint();
        await f(seq++);
        rt[k].push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
    }
  }
  chain.close();

  // 50 MB print, end to end: SDK (bytes counted) and pysh writing to a pipe.
  const size = 50 * 1000 * 1000;
  await client.run("cold", `blob = 'x' * ${size - 1}`);
  const sdkRates = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    let got = 0;
    const t0 = process.hrtime.bigint();
    await client.run("cold", "print(blob)", { output: (_s, b) => (got += b.length) });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (got !== size) throw new Error(`expected ${size} bytes, got ${got}`);
    sdkRates.push(size / secs / 1e6);
  }
  const cliRates = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    const t0 = process.hrtime.bigint();
    const got = await new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [BIN("pysh"), "run", "cold", "print(blob)"], { env: d.env, stdio: ["ignore", "pipe", "inherit"] });
      let n = 0;
      c.stdout.on("data", (b) => (n += b.length));
      c.on("close", (code) => (code === 0 ? resolve(n) : reject(new Error(`pysh exited ${code}`))));
    });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (got !== size) throw new Error(`pysh printed ${got} bytes, expected ${size}`);
    cliRates.push(size / secs / 1e6);
  }
  client.close();

  rows.push(["pysh run <s> \"1\" one-shot wall time (median)", `${fmt(median(cold))} ms`, `node -e 0: ${fmt(median(nodeFloor))} ms (+${fmt(median(cold) - median(nodeFloor))} ms)`, "≤ 80 ms and ≤ node + 25 ms"]);
  rows.push(["run `x = 1` round trip, open connection (median)", `${fmt(median(rt.run), 0)} µs`, `hop floor (client → Node relay → Python echo → back, raw bytes): ${fmt(median(rt.chain), 0)} µs`, "≤ 150 µs"]);
  rows.push(["run `x = <n>` (new code every time), open connection (median)", `${fmt(median(rt.runNew), 0)} µs`, "", ""]);
  rows.push(["vars round trip (control request through the daemon to the agent)", `${fmt(median(rt.vars), 0)} µs`, `daemon-only request (hello): ${fmt(median(rt.hello), 0)} µs`, ""]);
  rows.push(["new to ready (SDK: new + first run, median)", `${fmt(median(newSdk))} ms`, "", "≤ 80 ms"]);
  rows.push(["pysh new (CLI wall time, median)", `${fmt(median(newCli))} ms`, `node -e 0: ${fmt(median(nodeFloor))} ms`, ""]);
  for (const i of idle) rows.push([`idle session RSS (${i.exe})`, `${fmt(i.session)} MiB`, `bare \`${i.exe} -u -c …\`: ${fmt(i.bare)} MiB`, "≤ 16 MiB"]);
  rows.push(["50 MB print, SDK client (median)", `${fmt(median(sdkRates), 0)} MB/s`, "", "≥ 200 MB/s"]);
  rows.push(["50 MB print, pysh to a pipe (median)", `${fmt(median(cliRates), 0)} MB/s`, "", "≥ 200 MB/s"]);
} finally {
  await d.cleanup();
}
console.log("| measure | pythond | floor in the same run | target |\n|---|---:|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
