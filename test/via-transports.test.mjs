// Sessions on another host, beyond the verbs: the idle TTL that ends an un-rejoined agent, a
// host whose login manager would kill it at logout, a second transport (an `env` prefix: any
// command that reaches a python3), and attach through a real terminal (tmux) over ssh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { viaSetup, sshdSkip, okJson } from "./helpers/via.mjs";
import { BIN as bin } from "./helpers/daemon.mjs";
import { Tmux } from "./helpers/tmux.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const skip = sshdSkip;
const json = okJson;

async function until(what, check, ms = 20_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test("an agent nobody re-joins ends after --idle-ttl, saying why on its host; the next daemon drops its record", { skip }, async (t) => {
  const { d, via, agentDir, remoteAgents } = await viaSetup(t);
  json(await d.pysh("new", "w", "--via", via, "--idle-ttl", "2", "--json"));
  await d.pysh("run", "w", "x = 1");
  const records = () => readdirSync(`${d.sock}.d`).filter((f) => f.endsWith(".via"));
  assert.equal(records().length, 1, "the daemon keeps a record of the remote session");
  d.daemon.kill("SIGKILL"); // no daemon: the link drops, nobody re-joins
  await until("the agent to end", () => !remoteAgents().some((f) => f.endsWith(".sock")));
  const log = readFileSync(join(agentDir, remoteAgents().find((f) => f.endsWith(".log"))), "utf8");
  assert.match(log, /ended: no pythond daemon re-joined this session for 2 s \(its idle TTL, --idle-ttl\)/);
  await d.start();
  assert.equal((await d.pysh("ls")).stdout, "(no sessions)\n");
  assert.deepEqual(records(), [], "a record whose agent is gone is removed");
});

test("a host that kills a user's processes at logout, with no way around it: new fails and says so", { skip }, async (t) => {
  const { d, via, remoteAgents } = await viaSetup(t);
  const r = await d.pysh("new", "w", "--via", `${via} PYTHOND_KILL_USER_PROCESSES=yes`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /KillUserProcesses=yes/);
  assert.match(r.stderr, /loginctl enable-linger/);
  assert.deepEqual(remoteAgents().filter((f) => f.endsWith(".sock")), []);
  assert.equal((await d.pysh("ls")).stdout, "(no sessions)\n");
});

/** The oldest Python the agent supports, where pyenv has one (the agent must run on 3.9). */
function oldestPython() {
  const versions = join(process.env.HOME ?? "/root", ".pyenv", "versions");
  const v39 = existsSync(versions) ? readdirSync(versions).filter((v) => /^3\.9\.\d+$/.test(v)) : [];
  if (v39.length) return { path: join(versions, v39[0], "bin", "python3.9"), version: "(3, 9)" };
  return { path: "/usr/bin/python3", version: "(3, 11)" };
}
const python = oldestPython();
if (!python.path.includes("3.9")) console.log("# no Python 3.9 found: the env transport test uses /usr/bin/python3");

test("an env prefix is a transport too: verbs, and a killed relay mid-cell loses nothing", async (t) => {
  const { d, via, remoteHome } = await viaSetup(t, { sshd: false });
  const info = json(await d.pysh("new", "w", "--via", via, "--python", python.path, "--json"));
  assert.match(info.where, /^env HOME=/);
  assert.equal((await d.pysh("run", "w", "import os; os.environ['HOME']")).stdout, `${remoteHome}\n`);
  // The daemon's child is the bootstrap process, which relays the first link: kill it.
  const relays = () =>
    readdirSync("/proc").filter((p) => {
      if (!/^\d+$/.test(p)) return false;
      try {
        const stat = readFileSync(`/proc/${p}/stat`, "latin1");
        const bootstrap = readFileSync(`/proc/${p}/cmdline`, "latin1").split("\0").includes("-qui");
        return bootstrap && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === d.daemon.pid;
      } catch {
        return false;
      }
    });
  const run = d.pysh("run", "w", "import time\nfor i in range(40):\n    print(i, flush=True)\n    time.sleep(0.05)");
  await sleep(800);
  const before = relays();
  assert.equal(before.length, 1, "one bootstrap process relays the link");
  process.kill(Number(before[0]), "SIGKILL");
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, Array.from({ length: 40 }, (_, i) => `${i}\n`).join(""));
  assert.equal((await d.pysh("status", "--json", "w")).code, 0);
  // A crash there: its last words, then the death with its reason; restart starts it again.
  const crash = await d.pysh("run", "w", "print('last words', flush=True)\nimport os\nos._exit(7)");
  assert.equal(crash.code, 1);
  assert.equal(crash.stdout, "last words\n");
  assert.match(crash.stderr, /^ERR session 'w' dead \(exited with status 7\) -- pysh restart w /);
  assert.match((await d.pysh("ls")).stdout, /w: DEAD /);
  assert.equal((await d.pysh("restart", "w")).code, 0);
  assert.equal((await d.pysh("run", "w", "import sys; sys.version_info[:2]")).stdout, `${python.version}\n`);
  assert.equal((await d.pysh("kill", "w")).code, 0);
});

test("attach over ssh in a real terminal: replay, several viewers, resize", { skip }, async (t) => {
  const { d, via } = await viaSetup(t);
  json(await d.pysh("new", "w", "--via", via, "--json"));
  await d.pysh("run", "w", "agent_value = 41");
  const tm = new Tmux(d.env);
  t.after(() => tm.kill());
  tm.open("a", `${bin("pysh")} attach w`);
  await tm.waitFor("a", />>> $/m);
  tm.type("a", "agent_value + 1");
  tm.keys("a", "Enter");
  await tm.waitFor("a", /^42$/m);
  tm.type("a", "print('from-' + 'first')");
  tm.keys("a", "Enter");
  await tm.waitFor("a", /^from-first$/m);
  tm.open("b", `${bin("pysh")} attach w`);
  await tm.waitFor("b", /^from-first$/m); // the recent screen, replayed
  tm.type("b", "typed_in_b = 2");
  tm.keys("b", "Enter");
  await tm.waitFor("a", "typed_in_b = 2");
  assert.equal((await d.pysh("run", "w", "typed_in_b")).stdout, "2\n");
  tm.tmux("resize-window", "-t", "main:a", "-x", "91", "-y", "27");
  await sleep(300);
  tm.type("a", "tuple(os.get_terminal_size())");
  tm.keys("a", "Enter");
  await tm.waitFor("a", /^\(91, 27\)$/m);
  tm.keys("a", "C-]");
  await tm.waitFor("a", /^EXIT=0$/m);
  tm.keys("b", "C-]");
  await tm.waitFor("b", /^EXIT=0$/m);
});

test("kill ends a remote agent whose cell holds the GIL, so that it cannot hear the kill op", async (t) => {
  const { d, via, remoteAgents } = await viaSetup(t, { sshd: false });
  const info = json(await d.pysh("new", "w", "--via", via, "--python", python.path, "--json"));
  // Catastrophic backtracking: C code that never lets the agent's reader thread run.
  json(await d.pysh("fire", "--json", "w", "import re\nre.match(r'(a+)+$', 'a' * 64 + 'b')"));
  await sleep(300);
  const k = await d.pysh("kill", "w");
  assert.equal(k.code, 0, k.stderr);
  const gone = () => {
    try {
      process.kill(info.pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  await until("the interpreter to end", gone);
  await until("its socket to go", () => !remoteAgents().some((f) => f.endsWith(".sock")));
});

test("more output during a drop than the agent keeps for resending: the run says so, poll has it all", async (t) => {
  const { d, via } = await viaSetup(t, { sshd: false });
  const info = json(await d.pysh("new", "w", "--via", `${via} PYTHOND_RESEND_BYTES=4096`, "--python", python.path, "--json"));
  // About 1 MB/s: any re-join takes long enough for more than 4 KiB to be written meanwhile.
  // The link is cut once the cell is writing (a fixed pause could end before a loaded machine
  // even started the cell: then the re-join came first and nothing overflowed).
  const started = join(d.dir, "writing");
  const run = d.pysh("run", "w", `import time\nfor i in range(1000):\n    print(i, 'x' * 2000, flush=True)\n    if i == 20: open(${JSON.stringify(started)}, "w").close()\n    time.sleep(0.002)`);
  for (let i = 0; i < 600 && !existsSync(started); i++) await sleep(25);
  assert.ok(existsSync(started), "the cell never started writing");
  for (const p of readdirSync("/proc")) {
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, "latin1").split("\0");
      const stat = readFileSync(`/proc/${p}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === d.daemon.pid && args.includes("-qui") && Number(p) !== info.pid) process.kill(Number(p), "SIGKILL");
    } catch {
      /* not ours, or gone */
    }
  }
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[pythond: output sent while the link was down was more than the agent keeps for resending; poll has all of it\]/);
  const lines = r.stdout.trimEnd().split("\n");
  assert.ok(lines.length < 1000, "some output was not resent");
  const cell = JSON.parse((await d.pysh("cells", "--json", "w")).stdout).cells.at(-1).cell_id;
  const p = json(await d.pysh("poll", "--json", "w", cell));
  assert.equal(p.output.trimEnd().split("\n").length, 1000);
});
