// Sessions on another host (`pysh new --via "ssh ..."`) against a real sshd on 127.0.0.1:
// every verb, a killed ssh client mid-cell, sshd stopped and started, a restarted daemon,
// the idle TTL. Skipped only when sshd is not installed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { viaSetup, sshdSkip, okJson } from "./helpers/via.mjs";

const skip = sshdSkip;
const json = okJson;

test("a session over ssh: every verb works as for a local one", { skip }, async (t) => {
  const { d, via, remoteHome, remoteAgents } = await viaSetup(t);
  const made = await d.pysh("new", "w", "--via", via, "--json");
  const info = json(made);
  assert.equal(info.where, "ssh root@127.0.0.1".replace("root", process.env.USER ?? "root"));
  assert.match((await d.pysh("ls")).stdout, /^ {2}w: alive pid=\d+ \(pty\) on ssh \S+@127\.0\.0\.1\n$/);
  assert.equal(remoteAgents().filter((f) => f.endsWith(".sock")).length, 1, "its socket is in ~/.pythond/agents there");

  // run, streamed output and the namespace; the agent runs where the prefix leads (its HOME)
  const r = await d.pysh("run", "w", "import os, sys\nx = 41\nprint(os.environ['HOME'])\nprint('err', file=sys.stderr)\nx + 1");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${remoteHome}\n42\n`);
  assert.equal(r.stderr, "err\n");
  const failed = await d.pysh("run", "w", "1/0");
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /ZeroDivisionError/);

  // fire + poll --wait, fork + poll
  const fired = json(await d.pysh("fire", "--json", "w", "import time\ntime.sleep(0.3)\ny = x * 2\nprint('fired')"));
  const polled = json(await d.pysh("poll", "--wait", "20", "--json", "w", fired.cell_id));
  assert.equal(polled.state, "done");
  assert.equal(polled.output, "fired\n");
  const forked = json(await d.pysh("fork", "--json", "w", "z = y + 1"));
  let fp;
  for (let i = 0; i < 100; i++) {
    fp = json(await d.pysh("poll", "--json", "w", forked.cell_id));
    if (fp.state === "done") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(fp.state, "done");
  assert.deepEqual(fp.merged, ["z"]);

  // queries
  const names = json(await d.pysh("vars", "--json", "w")).vars;
  for (const n of ["x", "y", "z"]) assert.ok(names.includes(n), `${n} in ${names}`);
  assert.ok(json(await d.pysh("complete", "--json", "w", "os.pa")).matches.includes("os.path"));
  const st = json(await d.pysh("status", "--json", "w"));
  assert.equal(st.state, "idle");
  assert.equal(st.pid, info.pid);
  assert.ok(json(await d.pysh("cells", "--json", "w")).cells.length >= 4);

  // cancel a queued cell, interrupt the running one
  const long = json(await d.pysh("fire", "--json", "w", "import time\nwhile True: time.sleep(0.05)"));
  const queued = json(await d.pysh("fire", "--json", "w", "never = 1"));
  assert.equal(json(await d.pysh("cancel", "--json", "w", queued.cell_id)).cancelled, true);
  const int = json(await d.pysh("int", "--json", "w"));
  assert.equal(int.outcome, "stopped");
  assert.equal(int.interrupted, long.cell_id);
  assert.equal((await d.pysh("run", "w", "x")).stdout, "41\n", "the namespace is kept");

  // int with escalation: a cell that ignores KeyboardInterrupt ends the remote agent
  json(await d.pysh("fire", "--json", "w", "import time\nwhile True:\n  try: time.sleep(10)\n  except KeyboardInterrupt: pass"));
  await new Promise((r) => setTimeout(r, 300));
  const escalated = await d.pysh("int", "--grace", "0.5", "--json", "w");
  assert.equal(escalated.code, 1, "an escalation is a failure to stop the cell");
  const esc = JSON.parse(escalated.stdout);
  assert.equal(esc.outcome, "escalated");
  assert.equal(esc.namespace, "lost");

  // restart: a fresh agent on the same host through the same prefix
  const re = await d.pysh("restart", "--json", "w");
  const ri = json(re);
  assert.notEqual(ri.pid, info.pid);
  assert.equal((await d.pysh("run", "w", "import os; os.environ['HOME']")).stdout, `${remoteHome}\n`);
  assert.match((await d.pysh("ls")).stdout, / on ssh /);

  // kill: the agent there ends and its socket goes
  assert.equal((await d.pysh("kill", "w")).code, 0);
  const until = Date.now() + 10_000;
  while (remoteAgents().some((f) => f.endsWith(".sock")) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(remoteAgents().filter((f) => f.endsWith(".sock")), []);
  const logs = remoteAgents().filter((f) => f.endsWith(".log"));
  assert.ok(logs.some((f) => readFileSync(join(remoteHome, ".pythond", "agents", f), "utf8").includes("killed by its daemon")));
});

/** The ssh client processes the daemon runs (the transports of its remote sessions). */
function sshChildren(daemonPid) {
  const pids = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === daemonPid && readFileSync(`/proc/${p}/comm`, "latin1").trim() === "ssh") pids.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Start `pysh run` of a cell that counts to n, a line every 50 ms; resolves with its result. */
function countingRun(d, n) {
  return d.pysh("run", "w", `import time\nfor i in range(${n}):\n    print('line', i, flush=True)\n    time.sleep(0.05)\n'end'`);
}

const expected = (n) => Array.from({ length: n }, (_, i) => `line ${i}\n`).join("") + "end\n";

test("kill -9 of the ssh client mid-cell: the cell finishes, its output arrives once, the namespace is intact", { skip }, async (t) => {
  const { d, via } = await viaSetup(t);
  json(await d.pysh("new", "w", "--via", via, "--json"));
  await d.pysh("run", "w", "kept = 'yes'");
  const run = countingRun(d, 60);
  await new Promise((r) => setTimeout(r, 1000));
  const before = sshChildren(d.daemon.pid);
  assert.equal(before.length, 1, "one transport");
  process.kill(before[0], "SIGKILL");
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, expected(60));
  assert.equal((await d.pysh("run", "w", "kept, i")).stdout, "('yes', 59)\n");
  const now = sshChildren(d.daemon.pid);
  assert.equal(now.length, 1, "a new transport");
  assert.notEqual(now[0], before[0]);
});

test("sshd stopped for a few seconds with the link dropped: the daemon re-joins once it is back", { skip }, async (t) => {
  const { d, via, server } = await viaSetup(t);
  json(await d.pysh("new", "w", "--via", via, "--json"));
  const run = countingRun(d, 100);
  await new Promise((r) => setTimeout(r, 500));
  await server.stop();
  for (const pid of sshChildren(d.daemon.pid)) process.kill(pid, "SIGKILL"); // the connection goes too
  await new Promise((r) => setTimeout(r, 3000)); // attempts to re-join fail meanwhile
  await server.start();
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, expected(100));
  assert.equal((await d.pysh("run", "w", "i")).stdout, "99\n");
});

test("a restarted daemon re-joins its remote sessions; output of a cell fired before is kept", { skip }, async (t) => {
  const { d, via } = await viaSetup(t);
  const info = json(await d.pysh("new", "w", "--via", via, "--json"));
  await d.pysh("run", "w", "kept = 7");
  const fired = json(await d.pysh("fire", "--json", "w", "import time\ntime.sleep(2)\nprint('after the restart')"));
  const rs = await d.pyctl("restart");
  assert.equal(rs.code, 0, rs.stderr);
  assert.equal(rs.stdout, "OK restarted (1 session re-adopted)\n");
  assert.match((await d.pysh("ls")).stdout, new RegExp(`w: alive pid=${info.pid} \\(pty\\) on ssh `));
  const p = json(await d.pysh("poll", "--wait", "20", "--json", "w", fired.cell_id));
  assert.equal(p.output, "after the restart\n");
  assert.equal((await d.pysh("run", "w", "kept")).stdout, "7\n");
});
