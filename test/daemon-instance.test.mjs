// One daemon per socket, proved live and never judged by a pid: after kill -9 a new daemon
// starts whatever the old lock names, a live daemon is named with its lock file, and a runtime
// dir too deep for Unix socket paths is refused when the daemon starts.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync, unlinkSync, mkdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory, cli, exited } from "./helpers/daemon.mjs";

const make = daemonFactory(after);

async function killDaemon(d) {
  const pid = d.daemon.pid;
  d.daemon.kill("SIGKILL");
  assert.ok(await exited(pid, 10_000), "daemon gone");
}

test("after kill -9, a lock naming a live unrelated pid does not block a new daemon", async (t) => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "s")).code, 0);
  assert.equal((await d.pysh("run", "s", "x = 41")).code, 0);
  await killDaemon(d);
  // What a crashed daemon of any version may leave: a lock file naming a pid that now belongs
  // to another, live process.
  const stranger = spawn("sleep", ["60"], { stdio: "ignore" });
  t.after(() => stranger.kill("SIGKILL"));
  const lock = `${d.sock}.lock`;
  try {
    unlinkSync(lock);
  } catch {
    /* none left */
  }
  writeFileSync(lock, `${stranger.pid}\n`);
  await d.start();
  const r = await d.pysh("run", "s", "x + 1");
  assert.deepEqual([r.code, r.stdout], [0, "42\n"], r.stderr);
  // The lock a daemon killed by SIGKILL leaves behind is dead too.
  await killDaemon(d);
  assert.ok(existsSync(lock), "kill -9 leaves the lock file");
  await d.start();
  assert.equal((await d.pysh("run", "s", "x")).stdout, "41\n");
});

test("a second daemon on a live one refuses, naming the lock file and the holder's pid", async () => {
  const d = make();
  await d.start();
  const r = await cli(d.env, "pyctl", ["start"], { timeoutMs: 15_000 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^ERR pythond already running \\(pid ${d.daemon.pid}, it holds the lock ${d.sock.replace(/[.]/g, "\\.")}\\.lock\\)`));
  // The refused daemon took nothing away: the first still serves.
  assert.equal((await d.pysh("ls")).code, 0);
  const pysh = await d.pysh("new", "still");
  assert.equal(pysh.code, 0, pysh.stderr);
});

test("a socket path too long for AF_UNIX is refused at start, naming the path and PYTHOND_SOCK", async () => {
  const d = make();
  // The daemon's own socket fits (100 bytes); its agents' sockets in <sock>.d/ would not.
  const deep = join(d.dir, "deep");
  mkdirSync(deep, { mode: 0o700 });
  const sock = join(deep, "s".repeat(100 - deep.length - 1 - ".sock".length) + ".sock");
  assert.equal(Buffer.byteLength(sock), 100);
  const env = { ...d.env, PYTHOND_SOCK: sock };
  const agentSock = `${sock}.d/00000000.sock`;
  const r = await cli(env, "pythond", ["daemon"], { timeoutMs: 15_000 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ERR socket path too long: /);
  assert.ok(r.stderr.includes(`${agentSock} is ${Buffer.byteLength(agentSock)} bytes`), r.stderr);
  assert.match(r.stderr, /set PYTHOND_SOCK to a shorter path/);
  // pysh, starting a daemon in the background, says the same.
  const p = await cli(env, "pysh", ["new", "s"], { timeoutMs: 30_000, envExtra: { PYTHOND_NO_AUTOSTART: "" } });
  assert.equal(p.code, 1);
  assert.match(p.stderr, /socket path too long: .*PYTHOND_SOCK/);
  assert.ok(!existsSync(sock), "no daemon listens there");
});
