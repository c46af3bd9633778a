// pysh put / pysh get of a tree (issue 13, Files): a first copy, an unchanged re-copy, one
// small file changed, one block of a large file changed; wall time of the whole pysh command
// (median of 3) and the tool calls it made. With --against DIR (another built checkout, e.g.
// main), the SDK's Remote.upload/download of the same tree by that build and by this one,
// unchanged, for the call count and time a per-file transfer pays.
//   npm run build && node bench/files-bench.mjs [--quick] [--against DIR]
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync, utimesSync, openSync, writeSync, closeSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { TestDaemon, BIN, ROOT } from "../test/helpers/daemon.mjs";
import { median } from "./stats.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const at = argv.indexOf("--against");
const against = at >= 0 ? resolve(argv[at + 1] ?? "") : undefined;
const DIRS = quick ? 10 : 40;
const PER_DIR = 50;
const BIG = (quick ? 16 : 64) << 20;
const past = new Date(Date.now() - 3600_000);

const d = new TestDaemon();
await d.start();
try {
  const tree = join(d.dir, "tree");
  for (let i = 0; i < DIRS; i++) {
    mkdirSync(join(tree, `d${i}`), { recursive: true });
    for (let j = 0; j < PER_DIR; j++) writeFileSync(join(tree, `d${i}`, `f${j}.txt`), randomBytes(2048).toString("hex"));
  }
  writeFileSync(join(tree, "big.bin"), randomBytes(BIG));
  const settle = () => {
    for (let i = 0; i < DIRS; i++) for (let j = 0; j < PER_DIR; j++) utimesSync(join(tree, `d${i}`, `f${j}.txt`), past, past);
    utimesSync(join(tree, "big.bin"), past, past);
  };
  settle();
  const files = DIRS * PER_DIR + 1;
  const host = join(d.dir, "host");
  mkdirSync(host);
  const back = join(d.dir, "back");
  await d.pysh("new", "b", "--cwd", host);

  const pysh = (...args) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [BIN("pysh"), ...args, "--json"], { env: d.env, encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`pysh ${args.join(" ")}: ${r.stdout}${r.stderr}`);
    return { ms, ...JSON.parse(r.stdout) };
  };
  const rows = [];
  const row = (what, runs) => {
    const ms = median(runs.map((r) => r.ms));
    const last = runs[runs.length - 1];
    rows.push({ what, ms, calls: last.calls, sent: last.transferred });
  };
  const thrice = (before, ...args) =>
    [0, 1, 2].map(() => {
      before();
      return pysh(...args);
    });
  row(`put, first copy (${files} files, ${((BIG >> 20) + ((files - 1) * 4) / 1024).toFixed(1)} MiB)`, thrice(() => rmSync(join(host, "tree"), { recursive: true, force: true }), "put", "b", tree));
  row("put, unchanged", thrice(() => {}, "put", "b", tree));
  let n = 0;
  row("put, one 4 KiB file changed", thrice(() => {
    writeFileSync(join(tree, "d0", "f0.txt"), randomBytes(2048).toString("hex"));
    utimesSync(join(tree, "d0", "f0.txt"), past, new Date(past.getTime() + ++n * 1000));
  }, "put", "b", tree));
  row("put, one 4 MiB block of the large file changed", thrice(() => {
    const fd = openSync(join(tree, "big.bin"), "r+");
    writeSync(fd, randomBytes(16), 0, 16, 8 << 20);
    closeSync(fd);
    utimesSync(join(tree, "big.bin"), past, new Date(past.getTime() + ++n * 1000));
  }, "put", "b", tree));
  row("get, first copy", thrice(() => rmSync(back, { recursive: true, force: true }), "get", "b", "tree", back));
  row("get, unchanged", thrice(() => {}, "get", "b", "tree", back));

  const sdkRows = [];
  if (against) {
    for (const [label, root] of [["--against", against], ["this checkout", ROOT]]) {
      const { Remote } = await import(join(root, "dist", "index.js"));
      const r = await Remote.spawn(["/usr/bin/python3"]);
      try {
        const up = [];
        const down = [];
        for (let i = 0; i < 3; i++) {
          let t0 = performance.now();
          const u = await r.upload(tree, join(host, "tree"));
          up.push({ ms: performance.now() - t0, calls: u.calls });
          t0 = performance.now();
          const g = await r.download(join(host, "tree"), back);
          down.push({ ms: performance.now() - t0, calls: g.calls });
        }
        sdkRows.push({ label, up: median(up.map((x) => x.ms)), upCalls: up[2].calls, down: median(down.map((x) => x.ms)), downCalls: down[2].calls });
      } finally {
        await r.close();
      }
    }
  }

  console.log("| `pysh` command (tree of " + files + " files) | wall time (median of 3) | tool calls | bytes sent |");
  console.log("|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.what} | ${r.ms.toFixed(0)} ms | ${r.calls} | ${r.sent.toLocaleString("en")} |`);
  if (sdkRows.length) {
    console.log("\n| SDK, unchanged tree | upload | calls | download | calls |");
    console.log("|---|---|---|---|---|");
    for (const s of sdkRows) console.log(`| ${s.label} | ${s.up.toFixed(0)} ms | ${s.upCalls} | ${s.down.toFixed(0)} ms | ${s.downCalls} |`);
  }
  console.log(JSON.stringify({ rows, sdk: sdkRows }));
} finally {
  await d.cleanup();
}
