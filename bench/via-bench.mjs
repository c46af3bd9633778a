// Sessions on another host (issue 13): `run` round trip on an open link over ssh beside a local
// session (interleaved in rounds, so the machine's drift hits both alike), the time `new --via`
// takes, and the time to re-join after the ssh client is killed (from the kill to the first
// answer through the new link). The "host" is a real sshd on 127.0.0.1.
//   node bench/via-bench.mjs [--quick]
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TestDaemon } from "../test/helpers/daemon.mjs";
import { startSshd, sshdMissing } from "../test/helpers/sshd.mjs";
import { Client } from "../dist/index.js";
import { median } from "./stats.mjs";

const missing = sshdMissing();
if (missing) {
  console.log(`skipped: ${missing}`);
  process.exit(0);
}
const quick = process.argv.includes("--quick");
const ms = (ns) => Number(ns) / 1e6;

function sshChild(daemonPid) {
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === daemonPid && readFileSync(`/proc/${p}/comm`, "latin1").trim() === "ssh") return Number(p);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

const d = new TestDaemon();
let sshd;
try {
  await d.start();
  const sshDir = join(d.dir, "sshd");
  mkdirSync(sshDir, { mode: 0o700 });
  mkdirSync(join(d.dir, "remote"), { mode: 0o700 });
  sshd = await startSshd(sshDir);
  const via = [...sshd.argv(), "env", `HOME=${join(d.dir, "remote")}`, `PYTHOND_SOCK=${d.sock}`];
  const c = await Client.connect({ socket: d.sock, autostart: false });
  await c.request("new", { session: "local", replace: true });
  const starts = [];
  for (let i = 0; i < (quick ? 3 : 5); i++) {
    const t0 = process.hrtime.bigint();
    await c.request("new", { session: "far", replace: true, via });
    starts.push(ms(process.hrtime.bigint() - t0));
  }

  const rounds = quick ? 5 : 20;
  const per = quick ? 50 : 200;
  const rt = { local: [], far: [] };
  for (let r = 0; r < rounds; r++) {
    for (const name of ["local", "far"]) {
      for (let i = 0; i < per; i++) {
        const t0 = process.hrtime.bigint();
        await c.run(name, "x = 1");
        rt[name].push(ms(process.hrtime.bigint() - t0) * 1000);
      }
    }
  }

  const rejoin = [];
  for (let i = 0; i < (quick ? 3 : 10); i++) {
    const pid = sshChild(d.daemon.pid);
    const t0 = process.hrtime.bigint();
    process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 20)); // the drop is seen, and the re-join begins
    await c.request("status", { session: "far" });
    rejoin.push(ms(process.hrtime.bigint() - t0));
  }
  c.close();

  const f = (x, n = 1) => x.toFixed(n);
  console.log(`| measure | local session | session over ssh (127.0.0.1) |`);
  console.log(`|---|---:|---:|`);
  console.log(`| run \`x = 1\` round trip, open link (median of ${rounds * per}) | ${f(median(rt.local), 0)} µs | ${f(median(rt.far), 0)} µs |`);
  console.log(`| \`new --via\` (bootstrap over ssh, detach, first link; median of ${starts.length}) | | ${f(median(starts), 0)} ms |`);
  console.log(`| re-join after \`kill -9\` of the ssh client, to the first answer (median of ${rejoin.length}) | | ${f(median(rejoin), 0)} ms |`);
} finally {
  await sshd?.stop();
  await d.cleanup();
}
