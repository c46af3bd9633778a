// The remote proxy (pyctl connect): two real daemons on this machine, each with its own HOME
// and runtime dir, the remote one on TLS with its token and pinned certificate. The probe's
// exact failure reasons, the --replace rule, the token never in argv (0.4's positional form
// warned about) nor in logs, and every verb through the alias and through the explicit form.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { writeFileSync, readFileSync, statSync, existsSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory, ROOT, BIN } from "./helpers/daemon.mjs";
import { listeningRemote, connectTo } from "./helpers/proxy-env.mjs";
import { staticClosure } from "./helpers/imports.mjs";

const newDaemon = daemonFactory(after);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let R, L, remote, addr;
before(async () => {
  R = newDaemon();
  remote = await listeningRemote(R);
  addr = `127.0.0.1:${remote.port}`;
  L = newDaemon();
  await L.start();
});

/** Stop d's daemon and wait until its process is gone. */
async function stopLocal(d) {
  const child = d.daemon;
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", r));
  assert.equal((await d.pyctl("stop")).code, 0);
  await exited;
}

const json = (r) => {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};
const errType = (r) => JSON.parse(r.stdout).error.type;

test("connect fails with the exact reason: refused, pin, auth, TLS mismatch, timeout; no token is a usage error", async () => {
  // refused: nothing listens there
  const free = createServer();
  await new Promise((r) => free.listen(0, "127.0.0.1", r));
  const freePort = free.address().port;
  await new Promise((r) => free.close(r));
  const refused = await L.pyctl("connect", "x", `127.0.0.1:${freePort}`, "--tls", "--token-file", remote.tokenFile, "--json");
  assert.equal(refused.code, 1);
  assert.equal(errType(refused), "refused");
  assert.match(JSON.parse(refused.stdout).error.message, /connection refused/);

  // pin: the remote's certificate is not pinned here yet
  const unpinned = await L.pyctl("connect", "x", addr, "--tls", "--token-file", remote.tokenFile);
  assert.equal(unpinned.code, 1);
  assert.match(unpinned.stderr, /^ERR server certificate of 127\.0\.0\.1:\d+ is not pinned: it presented SHA256:/);
  assert.ok(unpinned.stderr.includes(`pyctl pin ${addr} --expect ${remote.fp}`), unpinned.stderr);
  assert.equal((await L.pyctl("pin", addr, "--expect", remote.fp)).code, 0);

  // auth: a wrong token
  const bad = join(L.dir, "bad-token");
  writeFileSync(bad, "0".repeat(32) + "\n", { mode: 0o600 });
  const auth = await L.pyctl("connect", "x", addr, "--tls", "--token-file", bad, "--json");
  assert.equal(auth.code, 1);
  assert.equal(errType(auth), "auth_failed");
  assert.match(JSON.parse(auth.stdout).error.message, /auth failed at 127\.0\.0\.1:\d+: wrong token/);

  // TLS on one side only
  const plain = await L.pyctl("connect", "x", addr, "--token-file", remote.tokenFile, "--json");
  assert.equal(plain.code, 1);
  assert.equal(errType(plain), "tls_failed");
  assert.match(JSON.parse(plain.stdout).error.message, /add --tls/);

  // timeout: a port that accepts and then says nothing
  const silent = createServer(() => {});
  await new Promise((r) => silent.listen(0, "127.0.0.1", r));
  const slow = await L.pyctl("connect", "x", `127.0.0.1:${silent.address().port}`, "--tls", "--token-file", remote.tokenFile, "--json");
  silent.close();
  assert.equal(slow.code, 1);
  assert.equal(errType(slow), "timeout");

  // no token at all: usage (exit 2); garbage address: a clear error
  const none = await L.pyctl("connect", "x", addr, "--tls");
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no token: --token-file FILE/);
  const garbage = await L.pyctl("connect", "x", "::::", "--tls", "--token-file", remote.tokenFile);
  assert.equal(garbage.code, 1);
  assert.match(garbage.stderr, /^ERR invalid address/);
  const badName = await L.pyctl("connect", "Bad Name", addr, "--tls", "--token-file", remote.tokenFile);
  assert.notEqual(badName.code, 0);

  // none of these left a proxy behind
  assert.equal((await L.pysh("ls")).stdout, "(no sessions)\n");
});

test("connect: a live local session is not replaced without --replace; 0.4's positional token works with a warning", async () => {
  assert.equal((await L.pysh("new", "loc")).code, 0);
  const refused = await connectTo(L, "loc", addr, remote);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^ERR session 'loc' already exists \(pid \d+\); use --replace to discard it/);
  assert.match((await L.pysh("ls")).stdout, /loc: alive pid=\d+ \(pty\)\n/);

  const replaced = await connectTo(L, "loc", addr, remote, "--replace");
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(replaced.stdout, `OK connected loc -> ${addr} tls\n`);
  assert.match((await L.pysh("ls")).stdout, new RegExp(`loc: -> ${addr} tls \\(remote\\) connected`));

  const positional = await L.pyctl("connect", "pos", addr, remote.token, "--tls");
  assert.equal(positional.code, 0, positional.stderr);
  assert.match(positional.stderr, /^WARN: a token on the command line can be read by other users/);
  assert.equal((await L.pyctl("disconnect", "pos")).stdout, "OK disconnected pos\n");
  assert.equal((await L.pyctl("disconnect", "loc")).code, 0);
  const twice = await L.pyctl("disconnect", "loc");
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /no session 'loc'/);
  assert.equal((await L.pysh("new", "plain")).code, 0);
  const local = await L.pyctl("disconnect", "plain");
  assert.equal(local.code, 1);
  assert.match(local.stderr, /'plain' is local, use kill/);
  await L.pysh("kill", "plain");
});

test("every verb through the alias: new on the remote, run (streamed), fire, fork, poll --wait, cells, status, vars, complete, int, cancel, output, restart, kill", async () => {
  const c = await connectTo(L, "work", addr, remote);
  assert.equal(c.code, 0, c.stderr);
  // before the remote session exists: the remote daemon's own error, code kept
  const missing = await L.pysh("run", "--json", "work", "1");
  assert.equal(missing.code, 1);
  assert.equal(errType(missing), "no_session");

  const made = await L.pysh("new", "work");
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, new RegExp(`^OK work pid=\\d+ on ${addr}\\n$`));
  assert.match((await R.pysh("ls")).stdout, /work: alive/);
  const again = await L.pysh("new", "work");
  assert.equal(again.code, 1, "the remote's no-silent-replace rule holds through the proxy");
  assert.match(again.stderr, /already exists/);

  const run = await L.pysh("run", "work", "import sys\nx = 42\nprint('out'); print('err', file=sys.stderr)\nx + 1");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "out\n43\n");
  assert.equal(run.stderr, "err\n");
  assert.equal((await R.pysh("run", "work", "x")).stdout, "42\n", "it ran on the remote session");
  const failed = await L.pysh("run", "--json", "work", "1/0");
  assert.equal(failed.code, 1);
  const fr = JSON.parse(failed.stdout.trim().split("\n").pop());
  assert.equal(fr.error.type, "ZeroDivisionError");

  const fired = json(await L.pysh("fire", "--json", "work", "import time; time.sleep(0.5); print('fired')"));
  const polled = json(await L.pysh("poll", "--json", "--wait", "30", "work", fired.cell_id));
  assert.equal(polled.state, "done");
  assert.equal(polled.output, "fired\n");
  const forked = json(await L.pysh("fork", "--json", "work", "y = x * 2"));
  const fp = json(await L.pysh("poll", "--json", "--wait", "30", "work", forked.cell_id));
  assert.deepEqual(fp.merged, ["y"]);
  assert.equal((await L.pysh("run", "work", "y")).stdout, "84\n");

  const cells = json(await L.pysh("cells", "--json", "work"));
  assert.ok(JSON.stringify(cells).includes(fired.cell_id));
  const st = json(await L.pysh("status", "--json", "work"));
  assert.equal(st.state, "idle");
  assert.equal(st.proxy.address, addr);
  assert.equal(st.proxy.state, "connected");
  assert.equal(typeof st.proxy.rtt_ms, "number");
  assert.ok(json(await L.pysh("vars", "--json", "work")).vars.includes("x"));
  assert.deepEqual(json(await L.pysh("complete", "--json", "work", "y")).matches.includes("y"), true);

  // int with the remote's escalation rules; cancel of a queued cell
  const long = json(await L.pysh("fire", "--json", "work", "import time; time.sleep(30)"));
  const queued = json(await L.pysh("fire", "--json", "work", "print('never')"));
  const cancelled = await L.pysh("cancel", "work", queued.cell_id);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  const int = json(await L.pysh("int", "--json", "work"));
  assert.equal(int.interrupted, long.cell_id);
  assert.equal(int.outcome, "stopped");
  assert.equal(int.namespace, "kept");

  const bg = json(await L.pysh("output", "--json", "work"));
  assert.equal(typeof bg.seq, "number");

  const restarted = json(await L.pysh("restart", "--json", "work", "--replay"));
  assert.equal(restarted.replayed, true);
  assert.equal((await L.pysh("run", "work", "x")).stdout, "42\n", "replayed on the remote");

  const killed = await L.pysh("kill", "work");
  assert.equal(killed.stdout, "OK killed work\n");
  assert.doesNotMatch((await R.pysh("ls")).stdout, /work:/, "kill ends the remote session");
  assert.match((await L.pysh("ls")).stdout, /work: -> /, "the proxy stays (disconnect drops it)");
});

test("the explicit form names another remote session, for every verb; a non-proxy refuses it", async () => {
  assert.equal((await L.pysh("new", "work", "gpu")).code, 0);
  assert.match((await R.pysh("ls")).stdout, /gpu: alive/);
  const run = await L.pysh("run", "work", "gpu", "g = 7\nprint('on gpu')");
  assert.equal(run.stdout, "on gpu\n", run.stderr);
  assert.equal((await R.pysh("run", "gpu", "g")).stdout, "7\n");
  const file = join(L.dir, "task.py");
  writeFileSync(file, "print('from a file', g)\n");
  assert.equal((await L.pysh("run", "work", "gpu", "-f", file)).stdout, "from a file 7\n", "<alias> <remote> -f FILE");
  assert.equal((await L.pyshIn("print('from stdin', g)", "run", "work", "gpu", "-")).stdout, "from stdin 7\n", "<alias> <remote> -");
  assert.equal((await L.pysh("new", "work")).code, 0);
  writeFileSync(file, "print('the alias session')\n");
  assert.equal((await L.pysh("run", "work", "-f", file)).stdout, "the alias session\n", "-f FILE alone is not the explicit form");
  const fired = json(await L.pysh("fire", "--json", "work", "gpu", "print(g * 2)"));
  const p = json(await L.pysh("poll", "--json", "--wait", "30", "work", "gpu", fired.cell_id));
  assert.equal(p.output, "14\n");
  assert.equal(json(await L.pysh("poll", "--json", "work", "gpu")).cell_id, fired.cell_id, "poll <alias> <remote> without a cell id");
  const forked = json(await L.pysh("fork", "--json", "work", "gpu", "h = g + 1"));
  assert.deepEqual(json(await L.pysh("poll", "--json", "--wait", "30", "work", "gpu", forked.cell_id)).merged, ["h"]);
  assert.ok(json(await L.pysh("vars", "--json", "work", "gpu")).vars.includes("h"));
  assert.equal(json(await L.pysh("status", "--json", "work", "gpu")).state, "idle");
  assert.ok(json(await L.pysh("complete", "--json", "work", "gpu", "g")).matches.includes("g"));
  assert.ok(Array.isArray(json(await L.pysh("cells", "--json", "work", "gpu")).cells));
  assert.equal(json(await L.pysh("int", "--json", "work", "gpu")).outcome, "idle");
  assert.equal(typeof json(await L.pysh("output", "--json", "work", "gpu")).seq, "number");
  const long = json(await L.pysh("fire", "--json", "work", "gpu", "import time; time.sleep(20)"));
  const q = json(await L.pysh("fire", "--json", "work", "gpu", "print(1)"));
  assert.equal((await L.pysh("cancel", "work", "gpu", q.cell_id)).code, 0);
  assert.equal(json(await L.pysh("int", "--json", "work", "gpu")).interrupted, long.cell_id);
  assert.ok(json(await L.pysh("restart", "--json", "work", "gpu")).pid > 0);
  // Ctrl-C on a pysh run of the explicit form interrupts the cell on the remote session it named
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, [BIN("pysh"), "run", "work", "gpu", "import time\nprint('started', flush=True)\ntime.sleep(60)"], { env: L.env, stdio: ["ignore", "pipe", "pipe"] });
  let seen = "";
  let errText = "";
  child.stdout.on("data", (d) => (seen += d));
  child.stderr.on("data", (d) => (errText += d));
  const exited = new Promise((r) => child.on("close", r));
  while (!seen.includes("started")) await sleep(25);
  child.kill("SIGINT");
  assert.equal(await exited, 130, errText);
  assert.match(errText, /KeyboardInterrupt/);
  assert.equal(JSON.parse((await R.pysh("status", "--json", "gpu")).stdout).state, "idle");
  assert.equal((await L.pysh("kill", "work", "gpu")).stdout, "OK killed gpu\n");
  assert.doesNotMatch((await R.pysh("ls")).stdout, /gpu:/);

  // a local session takes several code arguments as lines, as before
  await L.pysh("new", "loc2");
  assert.equal((await L.pysh("run", "loc2", "a = 1", "print(a + 1)")).stdout, "2\n");
  const notProxy = await L.pysh("status", "loc2", "other");
  assert.equal(notProxy.code, 1);
  assert.match(notProxy.stderr, /'loc2' is not a proxy/);
  await L.pysh("kill", "loc2");
});

test("ls lists proxies with address, state and latency; --remote lists the remote daemon's sessions", async () => {
  const text = (await L.pysh("ls")).stdout;
  assert.match(text, new RegExp(`^  work: -> ${addr} tls \\(remote\\) connected \\d+ ms\\n$`));
  const list = json(await L.pysh("ls", "--json"));
  assert.equal(list[0].proxy.state, "connected");
  const remoteList = await L.pysh("ls", "--remote");
  assert.equal(remoteList.code, 0, remoteList.stderr);
  assert.match(remoteList.stdout, /^work:\n    work: alive pid=\d+ \(pty\)/);
  const one = json(await L.pysh("ls", "--remote", "work", "--json"));
  assert.deepEqual(one.work.map((s) => s.name), ["work"]);
});

test("the proxy is kept in a 0600 file in a 0700 dir; its token never reaches argv of the daemon, the access log or its stderr", async () => {
  const file = join(L.home, ".pythond", "proxies.json");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(L.home, ".pythond")).mode & 0o777, 0o700);
  const stored = JSON.parse(readFileSync(file, "utf8")).proxies;
  assert.deepEqual(stored.map((p) => p.alias), ["work"]);
  assert.equal(stored[0].token, remote.token);
  const logs = readFileSync(join(L.run, "pythond", "access.log"), "utf8") + L.daemon.stderrText();
  assert.ok(!logs.includes(remote.token), "the token is not logged");
  assert.ok(!readFileSync(`/proc/${L.daemon.pid}/cmdline`, "utf8").includes(remote.token));
});

test("the local daemon restarts: the proxy comes back and the remote session kept its namespace", async () => {
  await L.pysh("run", "work", "kept = 'yes'");
  await stopLocal(L);
  await L.start();
  let r;
  for (let i = 0; i < 100; i++) {
    r = await L.pysh("run", "work", "kept");
    if (r.code === 0) break;
    await sleep(100);
  }
  assert.equal(r.stdout, "yes\n", r.stderr);
  assert.match((await L.pysh("ls")).stdout, /work: -> .* connected/);
});

test("a garbled or too-open proxies file is refused with one line; the daemon starts without it", async () => {
  const file = join(L.home, ".pythond", "proxies.json");
  const good = readFileSync(file);
  await stopLocal(L);
  writeFileSync(file, "{garbage");
  await L.start();
  await sleep(300);
  assert.match(L.daemon.stderrText(), /pythond: not restoring proxies: .*proxies\.json is not JSON/);
  assert.equal((await L.pysh("ls")).stdout, "(no sessions)\n");
  await stopLocal(L);
  writeFileSync(file, good);
  chmodSync(file, 0o644);
  await L.start();
  await sleep(300);
  assert.match(L.daemon.stderrText(), /has mode 644: others may read the tokens in it/);
  chmodSync(file, 0o600);
});

test("a daemon with no proxy loads no proxy or TLS code (the proxy and its TLS load with the first connect)", () => {
  const { files } = staticClosure(ROOT, "src/daemon/server.ts");
  assert.deepEqual(files.filter((f) => f.startsWith(join("src", "proxy") + "/") || f.includes("client/remote")), []);
  assert.ok(existsSync(join(ROOT, "src", "proxy", "proxies.ts")));
  const { files: pysh } = staticClosure(ROOT, "src/cli/pysh.ts");
  assert.deepEqual(pysh.filter((f) => f.startsWith(join("src", "proxy") + "/")), []);
});

test("pythond 0.4's own pyctl and pysh against our daemon: connect with its positional token, ls, run <proxy> <remote> in the body form, disconnect", { timeout: 120_000 }, async () => {
  const { peer04 } = await import("./helpers/remote.mjs");
  await L.pyctl("pin", addr, "--expect", remote.fp); // (already pinned when the whole file runs)
  const c = await peer04(L.env, "pyctl", ["connect", "old04", addr, remote.token, "--tls"]);
  assert.equal(c.stdout, `OK connected old04 -> ${addr} tls\n`, c.stderr);
  const ls = await peer04(L.env, "pysh", ["ls"]);
  assert.match(ls.stdout, new RegExp(`^  old04: -> ${addr} tls \\(remote\\)$`, "m"));
  await R.pysh("new", "old04");
  const run = await peer04(L.env, "pysh", ["run", "old04", "v = 4\nprint(v * 10)"]);
  assert.equal(run.stdout, "40\n", run.stderr);
  // 0.4's explicit form: run <proxy> <remote> <code> (its CLI sends "run old04 work\n<code>")
  await R.pysh("new", "other04");
  const explicit = await peer04(L.env, "pysh", ["run", "old04", "other04", "print('on other04')"]);
  assert.equal(explicit.stdout, "on other04\n", explicit.stderr);
  assert.equal((await R.pysh("run", "other04", "'v' in globals()")).stdout, "False\n");
  const bad = await peer04(L.env, "pyctl", ["connect", "old04b", `127.0.0.1:1`, remote.token, "--tls"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^ERR remote probe failed: cannot connect to 127\.0\.0\.1:1: connection refused/);
  await L.pysh("new", "loc04");
  const local = await peer04(L.env, "pyctl", ["connect", "loc04", addr, remote.token, "--tls"]);
  assert.equal(local.code, 1, "our daemon refuses to replace a live session of that name even for 0.4 (compat 14.17)");
  assert.match(local.stderr, /^ERR session 'loc04' already exists/);
  await L.pysh("kill", "loc04");
  assert.equal((await peer04(L.env, "pyctl", ["disconnect", "old04"])).stdout, "OK disconnected old04\n");
  await R.pysh("kill", "old04");
  await R.pysh("kill", "other04");
});

test("garbage in connect and the explicit-form fields is refused with bad_request; the daemon stays well", async () => {
  assert.equal((await connectTo(L, "work", addr, remote, "--replace")).code, 0);
  const ws = await L.ws(["pythond.json.1"]);
  const ask = async (req) => JSON.parse(await ws.ask(JSON.stringify({ id: 1, ...req })));
  const cases = [
    { op: "connect", session: "g", address: addr, token: "has space" },
    { op: "connect", session: "g", address: addr, token: "x".repeat(2000) },
    { op: "connect", session: "g", address: 5, token: "t" },
    { op: "connect", session: "g", address: "h".repeat(400), token: "t" },
    { op: "connect", session: "G!", address: addr, token: "t" },
    { op: "status", session: "work", remote: "../etc" },
    { op: "status", session: "work", remote: 7 },
    { op: "run", session: "work", code: "1", words: ["Not A Name", "1"] },
    { op: "disconnect", session: 3 },
  ];
  for (const req of cases) {
    const r = await ask(req);
    assert.equal(r.ok, false, JSON.stringify(req));
    assert.match(r.error.code, /^(bad_request|invalid_name)$/, JSON.stringify(req));
  }
  ws.close();
  assert.equal((await L.pysh("run", "work", "1 + 1")).stdout, "2\n");
});
