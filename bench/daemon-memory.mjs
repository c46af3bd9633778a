// The daemon's resident memory (VmRSS) around large cells: idle, then after each of a 60 MB
// output `run`, a 60 MB code `run` (-f), a 60 MB `fire` + `poll`, each after the daemon has been
// quiet for 8 s. Through the real CLI against an isolated daemon, started the way pysh starts
// one (autostart, which gives it its malloc settings: src/util/malloc-env.ts).
// Usage: npm run build && node bench/daemon-memory.mjs
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TestDaemon } from "../test/helpers/daemon.mjs";

const d = new TestDaemon({ PYTHOND_NO_AUTOSTART: "" });
let pid;
const rss = () => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]) / 1024;
const quiet = () => new Promise((r) => setTimeout(r, 8000));
const rows = [];
const row = (what) => rows.push([what, rss().toFixed(0)]);
try {
  await d.pysh("new", "s"); // starts the daemon in the background
  pid = d.ourPids().find((p) => readFileSync(`/proc/${p}/cmdline`, "latin1").includes("pythond.js\0daemon"));
  await d.pysh("run", "s", "1");
  await quiet();
  row("idle, one session");
  await d.pysh("run", "s", "print('x' * 60_000_000)");
  await quiet();
  row("after `run` printing 60 MB");
  const big = join(d.dir, "big.py");
  writeFileSync(big, `b = "${"y".repeat(60_000_000)}"\n`);
  await d.pysh("run", "s", "-f", big);
  await quiet();
  row("after `run -f` of 60 MB of code");
  const id = JSON.parse((await d.pysh("fire", "s", "print('z' * 60_000_000)")).stdout).cell_id;
  await d.pysh("poll", "--wait", "60", "s", id);
  await quiet();
  row("after `fire` + `poll` of 60 MB output");
  console.log("| State | daemon RSS (MiB) |\n|---|---:|");
  for (const [w, v] of rows) console.log(`| ${w} | ${v} |`);
} finally {
  await d.cleanup();
}
