// Compatibility with pythond 0.4 itself (../shared/peers, run with Debian's python3 and its
// python3-cryptography): 0.4's client against our daemon (token, TLS with its pins, mTLS with
// its client certificate), and our pysh against a 0.4 daemon over its text protocol.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory, makeEnv, cli, BIN } from "./helpers/daemon.mjs";
import { startListening, stopListening, RemoteClient, tokenOf, peer04, start04 } from "./helpers/remote.mjs";
import { Tmux } from "./helpers/tmux.mjs";

const newDaemon = daemonFactory(after);
const stops = [];
after(async () => {
  for (const s of stops) await s();
});

/** A 0.4 client machine: its own HOME; env for its pysh/pyctl. */
function client04(d, name, port, { tls, token }) {
  const home = join(d.dir, `c04-${name}`);
  mkdirSync(home, { mode: 0o700, recursive: true });
  const env = { ...d.env, HOME: home, PYTHOND_HOST: `127.0.0.1:${port}`, PYTHOND_TLS: tls ? "1" : "", PYTHOND_TOKEN: token };
  return { home, env, pysh: (...a) => peer04(env, "pysh", a), pyctl: (...a) => peer04(env, "pyctl", a) };
}

test("0.4's client against our daemon: plain loopback with the token, TLS with its own pins, mTLS with its own client certificate", { timeout: 240_000 }, async () => {
  const d = newDaemon();
  let { port } = await startListening(d, ["--listen", "127.0.0.1:0"]);
  const token = await tokenOf(d);
  const plain = client04(d, "plain", port, { tls: false, token });
  assert.match((await plain.pysh("new", "w")).stdout, /^OK w pid=\d+/);
  const r = await plain.pysh("run", "w", "6 * 7");
  assert.equal(r.stdout, "42\n", r.stderr);
  const bad = await peer04({ ...plain.env, PYTHOND_TOKEN: "f".repeat(32) }, "pysh", ["ls"]);
  // 0.4's client sends its command without waiting for a verdict, so it either reads the
  // ERR frame or finds the connection already closed (1008): both refuse, as against 0.4.
  assert.match(bad.stderr, /^ERR (auth failed|command failed: ConnectionClosedError)$/m);
  assert.doesNotMatch(bad.stdout, /no sessions|w:/);
  await stopListening(d.daemon);

  // TLS: 0.4 pins our certificate with its own pyctl
  ({ port } = await startListening(d, ["--listen", "127.0.0.1:0", "--tls"]));
  const certFile = join(d.dir, "ours.pem");
  writeFileSync(certFile, readFileSync(JSON.parse((await d.pyctl("cert", "--json")).stdout).cert));
  const tls = client04(d, "tls", port, { tls: true, token });
  const pinned = await tls.pyctl("pin", certFile);
  assert.equal(pinned.code, 0, pinned.stderr);
  const fp = JSON.parse((await d.pyctl("cert", "--json")).stdout).fingerprint;
  assert.match(pinned.stdout, new RegExp(`^pinned server: ${fp}\n`), "0.4 computes the same fingerprint");
  assert.match((await tls.pysh("new", "w")).stdout, /^OK w pid=\d+/); // sessions end with a stopped daemon
  const overTls = await tls.pysh("run", "w", "'over tls'");
  assert.equal(overTls.stdout, "over tls\n", overTls.stderr);
  // ... and our pysh honours the pin that 0.4's pyctl wrote (a global pin)
  const ours = new RemoteClient(d, "ours-in-04-home", port, { token });
  ours.env.HOME = tls.home;
  const mixed = await ours.pysh("run", "w", "'ours, 0.4 pin'");
  assert.equal(mixed.stdout, "ours, 0.4 pin\n", mixed.stderr);
  await stopListening(d.daemon);

  // mTLS: 0.4 makes its client certificate (RSA), we trust it
  const made = await tls.pyctl("cert");
  assert.equal(made.code, 0, made.stderr);
  const t = await d.pyctl("trust", join(tls.home, ".pythond", "tls", "cert.pem"));
  assert.equal(t.code, 0, t.stderr);
  let auth;
  ({ port, auth } = await startListening(d, ["--listen", "127.0.0.1:0", "--tls"]));
  assert.equal(auth, "mtls");
  tls.env.PYTHOND_HOST = `127.0.0.1:${port}`;
  assert.match((await tls.pysh("new", "w")).stdout, /^OK w pid=\d+/);
  const overMtls = await tls.pysh("run", "w", "'mtls ok'");
  assert.equal(overMtls.stdout, "mtls ok\n", overMtls.stderr);
  const stranger = client04(d, "stranger", port, { tls: true, token });
  assert.equal((await stranger.pyctl("pin", certFile)).code, 0);
  const refused = await stranger.pysh("ls");
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /ERR (cannot connect|connect failed)/);
  await stopListening(d.daemon);
});

/** A 0.4 daemon on a random free port (0.4 takes no port 0); its own HOME and runtime dir. */
async function daemon04(args) {
  const e = makeEnv();
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    try {
      const r = await start04(e.env, ["--listen", `127.0.0.1:${port}`, ...args, "--show-token"]);
      stops.push(async () => {
        r.child.kill("SIGTERM");
        await new Promise((res) => (r.child.exitCode !== null ? res() : r.child.once("exit", res)));
        rmSync(e.dir, { recursive: true, force: true });
      });
      return { ...r, port, env: e.env, home: e.home, dir: e.dir };
    } catch (err) {
      if (attempt >= 5 || !/OSError|Address already in use/.test(String(err))) throw err;
    }
  }
}

test("our pysh against a pythond 0.4 daemon over TLS (its text protocol), pinned on first contact; what 0.4 lacks is a clear error", { timeout: 240_000 }, async () => {
  const p = await daemon04(["--tls"]);
  const fp = /fingerprint=(\S+)/.exec(p.text())[1];
  const helperDaemon = newDaemon(); // only for its temp dir and cleanup
  const c = new RemoteClient(helperDaemon, "to04", p.port, { token: p.token });
  const pin = await c.pyctl("pin", `127.0.0.1:${p.port}`, "--expect", fp);
  assert.equal(pin.code, 0, pin.stderr);
  const ok = async (...args) => {
    const r = await c.pysh(...args);
    assert.equal(r.code, 0, `pysh ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  assert.match(await ok("new", "w"), /^OK w pid=\d+\n$/);
  assert.equal(await ok("run", "w", "x = 20\nx + 1"), "21\n");
  const failed = await c.pysh("run", "w", "1/0");
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /ZeroDivisionError/);
  const fired = JSON.parse(await ok("fire", "w", "y = x * 2"));
  assert.equal(fired.status, "fired");
  assert.match(await ok("poll", "--wait", "30", "w", fired.cell_id), /"status": "done"/);
  const forked = JSON.parse(await ok("fork", "w", "z = 5"));
  assert.match(await ok("poll", "--wait", "30", "w", forked.cell_id), /"merged": \["z"\]/);
  assert.match(await ok("ls"), /^  w: alive pid=\d+ \(pty\)$/m);
  assert.match(await ok("status", "w"), /^\{"state": "idle"/);
  assert.match(await ok("vars", "w"), /"x", "y", "z"/);
  assert.match(await ok("complete", "w", "zz"), /"matches"/);
  assert.equal(await ok("int", "w"), "OK no running cells in w\n");
  const cells = await c.pysh("cells", "w");
  assert.equal(cells.code, 1);
  assert.match(cells.stderr, /^ERR cells needs a newer daemon: this one is pythond 0.4/);
  const missing = await c.pysh("run", "nope", "1");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^ERR no session 'nope'/);
  const wrong = await c.pyshWith({ PYTHOND_TOKEN: "0".repeat(32) }, "ls");
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /auth failed/);

  // attach through 0.4's attach sub-protocol, in a real terminal; Ctrl-] detaches
  const tm = new Tmux(c.env);
  try {
    tm.open("a", `${BIN("pysh")} attach w`);
    await tm.waitFor("a", /shared with AI[\s\S]*>>> $/m, 20_000);
    tm.type("a", "x + 100");
    tm.keys("a", "Enter");
    await tm.waitFor("a", /^120\r?$/m);
    tm.keys("a", "C-]");
    await tm.waitFor("a", /detached from "w"[\s\S]*EXIT=0/);
  } finally {
    tm.kill();
  }
  assert.match(await ok("kill", "w"), /^OK killed w/);
});

test("our client certificate is accepted by a pythond 0.4 daemon's mTLS, and plain loopback 0.4 works with the token", { timeout: 240_000 }, async () => {
  const helperDaemon = newDaemon();
  const c = new RemoteClient(helperDaemon, "mtls04", 0);
  const ours = JSON.parse((await c.pyctl("cert", "--json")).stdout);
  // the 0.4 server trusts our (ECDSA) certificate with its own pyctl
  const serverEnv = makeEnv();
  const trusted = await peer04(serverEnv.env, "pyctl", ["trust", ours.cert]);
  assert.equal(trusted.code, 0, trusted.stderr);
  const { token, child, text } = await (async () => {
    for (let attempt = 0; ; attempt++) {
      const port = 20_000 + Math.floor(Math.random() * 40_000);
      try {
        const r = await start04(serverEnv.env, ["--listen", `127.0.0.1:${port}`, "--tls", "--show-token"]);
        return { ...r, port };
      } catch (err) {
        if (attempt >= 5) throw err;
      }
    }
  })();
  stops.push(async () => {
    child.kill("SIGTERM");
    await new Promise((res) => (child.exitCode !== null ? res() : child.once("exit", res)));
    rmSync(serverEnv.dir, { recursive: true, force: true });
  });
  assert.match(text(), /auth=mtls/);
  const port = Number(/wss:\/\/127\.0\.0\.1:(\d+)/.exec(text())[1]);
  c.env.PYTHOND_HOST = `127.0.0.1:${port}`;
  c.env.PYTHOND_TOKEN = token;
  assert.equal((await c.pyctl("pin", `127.0.0.1:${port}`, "--expect", /fingerprint=(\S+)/.exec(text())[1])).code, 0);
  const r = await c.pysh("new", "m");
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await c.pysh("run", "m", "'mtls to 0.4'")).stdout, "mtls to 0.4\n");

  // plain loopback 0.4 daemon, token only
  const p = await daemon04([]);
  const plain = new RemoteClient(helperDaemon, "plain04", p.port, { tls: false, token: p.token });
  assert.match((await plain.pysh("new", "q")).stdout, /^OK q pid=/);
  assert.equal((await plain.pysh("run", "q", "'plain'")).stdout, "plain\n");
});
