// Proxies further afield: two hops (a proxy to a daemon whose session of that name is itself
// a proxy), and a pythond 0.4 remote (its text protocol: what 0.4 serves works, the rest is a
// clear error). Three real daemons (and the real 0.4 one), each with its own HOME.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory } from "./helpers/daemon.mjs";
import { start04 } from "./helpers/remote.mjs";
import { listeningRemote, connectTo } from "./helpers/proxy-env.mjs";

const newDaemon = daemonFactory(after);
const stops = [];
after(async () => {
  for (const s of stops) await s();
});

const json = (r) => {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

let L;
before(async () => {
  L = newDaemon();
  await L.start();
});

test("two hops: local -> middle -> remote, every kind of verb, and ls --remote shows the middle's proxy", { timeout: 180_000 }, async () => {
  const R = newDaemon();
  const r = await listeningRemote(R);
  const M = newDaemon();
  const m = await listeningRemote(M);
  assert.equal((await connectTo(M, "far", `127.0.0.1:${r.port}`, r)).code, 0);
  const c = await connectTo(L, "far", `127.0.0.1:${m.port}`, m);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await L.pysh("new", "far")).code, 0);
  assert.match((await R.pysh("ls")).stdout, /far: alive pid=\d+/, "made two hops away");
  const run = await L.pysh("run", "far", "import os\nprint('pid', os.getpid() > 0)\nhops = 2\nhops");
  assert.equal(run.stdout, "pid True\n2\n", run.stderr);
  assert.equal((await R.pysh("run", "far", "hops")).stdout, "2\n");
  const fired = json(await L.pysh("fire", "--json", "far", "import time; time.sleep(0.3); print('far away')"));
  assert.equal(json(await L.pysh("poll", "--json", "--wait", "30", "far", fired.cell_id)).output, "far away\n");
  const st = json(await L.pysh("status", "--json", "far"));
  assert.equal(st.state, "idle");
  assert.equal(st.proxy.address, `127.0.0.1:${m.port}`);
  assert.ok(json(await L.pysh("vars", "--json", "far")).vars.includes("hops"));
  assert.equal(json(await L.pysh("int", "--json", "far")).outcome, "idle");
  const remoteLs = await L.pysh("ls", "--remote");
  assert.match(remoteLs.stdout, new RegExp(`^far:\\n    far: -> 127\\.0\\.0\\.1:${r.port} tls \\(remote\\) connected`));
  assert.equal((await L.pysh("kill", "far")).code, 0);
  assert.doesNotMatch((await R.pysh("ls")).stdout, /far:/, "kill went all the way");
});

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

test("a pythond 0.4 remote: run, fire, fork, poll, status, vars, complete, int, kill through the proxy; what 0.4 lacks is a clear error", { timeout: 180_000 }, async () => {
  const home04 = newDaemon(); // its own HOME and runtime dir (and cleanup)
  const port = await freePort();
  const d04 = await start04(home04.env, ["--listen", `127.0.0.1:${port}`, "--tls", "--show-token"]);
  stops.push(async () => {
    d04.child.kill("SIGTERM");
    await new Promise((res) => (d04.child.exitCode !== null ? res() : d04.child.once("exit", res)));
  });
  const fp = /fingerprint=(\S+)/.exec(d04.text())[1];
  const tokenFile = join(L.dir, "token04");
  writeFileSync(tokenFile, d04.token + "\n", { mode: 0o600 });
  const c = await connectTo(L, "old", `127.0.0.1:${port}`, { fp, tokenFile });
  assert.equal(c.code, 0, c.stderr);
  assert.equal(json(await L.pyctl("connect", "--json", "old", `127.0.0.1:${port}`, "--tls", "--token-file", tokenFile, "--replace")).protocol, "pythond.0.4");
  assert.match((await L.pysh("new", "old")).stdout, /^OK old pid=\d+ on 127\.0\.0\.1:\d+\n$/);
  assert.equal((await L.pysh("run", "old", "x = 20\nprint(x + 1)")).stdout, "21\n");
  const failed = await L.pysh("run", "old", "1/0");
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /ZeroDivisionError/);
  const fired = json(await L.pysh("fire", "--json", "old", "y = x * 2"));
  assert.equal(json(await L.pysh("poll", "--json", "--wait", "30", "old", fired.cell_id)).state, "done");
  const forked = json(await L.pysh("fork", "--json", "old", "z = 5"));
  assert.deepEqual(json(await L.pysh("poll", "--json", "--wait", "30", "old", forked.cell_id)).merged, ["z"]);
  assert.equal(json(await L.pysh("status", "--json", "old")).state, "idle");
  assert.ok(json(await L.pysh("vars", "--json", "old")).vars.includes("z"));
  assert.ok(Array.isArray(json(await L.pysh("complete", "--json", "old", "zz")).matches));
  assert.equal((await L.pysh("int", "old")).stdout, "OK no running cells in old\n");
  for (const [verb, ...args] of [["cells"], ["restart"], ["cancel", "0123456789ab"], ["output"]]) {
    const r = await L.pysh(verb, "old", ...args);
    assert.equal(r.code, 1, `${verb}: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(`^ERR ${verb === "output" ? "output" : verb} needs a newer daemon: this one is pythond 0.4`), verb);
  }
  assert.equal((await L.pysh("kill", "old")).stdout, "OK killed old\n");
  assert.equal((await L.pyctl("disconnect", "old")).code, 0);
});

test("mTLS: a proxy presents this machine's client certificate; a remote that does not trust it refuses the connect, saying so", { timeout: 120_000 }, async () => {
  const trusted = newDaemon();
  await trusted.start();
  const cert = JSON.parse((await trusted.pyctl("cert", "--json")).stdout).cert;
  const stranger = newDaemon();
  await stranger.start();
  await stranger.pyctl("cert");
  const M = newDaemon();
  assert.equal((await M.pyctl("trust", cert)).code, 0);
  const m = await listeningRemote(M);
  const ok = await connectTo(trusted, "m", `127.0.0.1:${m.port}`, m);
  assert.equal(ok.code, 0, ok.stderr);
  await trusted.pysh("new", "m");
  assert.equal((await trusted.pysh("run", "m", "'mtls ok'")).stdout, "mtls ok\n");
  const refused = await connectTo(stranger, "m", `127.0.0.1:${m.port}`, m, "--json");
  assert.equal(refused.code, 1);
  const err = JSON.parse(refused.stdout).error;
  assert.equal(err.type, "tls_failed");
  assert.match(err.message, /refused the TLS connection .*client certificates.*pyctl trust/);
});
