// Remote use over real TLS on 127.0.0.1 with real certificates (pythond daemon --listen
// --tls, pyctl cert/pin/trust, pysh with PYTHOND_HOST/PYTHOND_TLS/PYTHOND_TOKEN): pinning
// before the token, mTLS, the errors that name their fix, hostile input on the TLS port,
// 200 concurrent clients, every pysh verb remotely, and a local path that never loads TLS.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createServer as netServer, connect as netConnect } from "node:net";
import { createServer as tlsServer } from "node:tls";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { daemonFactory, BIN } from "./helpers/daemon.mjs";
import { startListening, RemoteClient, tokenOf, accessLog, openTcpWs } from "./helpers/remote.mjs";
import { Tmux } from "./helpers/tmux.mjs";

const newDaemon = daemonFactory(after);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let d, port, token, certPem, fp;
before(async () => {
  d = newDaemon({ PYTHOND_TLS_BRIDGE_IO_TIMEOUT: "1" });
  ({ port } = await startListening(d, ["--listen", "127.0.0.1:0", "--tls"]));
  token = await tokenOf(d);
  const cert = JSON.parse((await d.pyctl("cert", "--json")).stdout);
  certPem = join(d.dir, "server-cert.pem");
  writeFileSync(certPem, readFileSync(cert.cert));
  fp = cert.sha256;
});

/** A client that pinned the server for its address. */
async function pinnedClient(name) {
  const c = new RemoteClient(d, name, port, { token });
  const r = await c.pyctl("pin", `127.0.0.1:${port}`, "--expect", fp);
  assert.equal(r.code, 0, r.stderr);
  return c;
}

/** Free a port: listen on 0, take the number, close. */
async function freePort() {
  const s = netServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

test("pinning: unpinned and pinned-for-another-host are refused with the fingerprint and the pin command; a host pin and a global (0.4) pin are accepted", async () => {
  const c = new RemoteClient(d, "pins", port, { token });
  const unpinned = await c.pysh("ls");
  assert.equal(unpinned.code, 1);
  assert.match(unpinned.stderr, new RegExp(`^ERR server certificate of 127\\.0\\.0\\.1:${port} is not pinned: it presented ${fp.replace(/[+/]/g, "\\$&")}`));
  assert.ok(unpinned.stderr.includes(`pyctl pin 127.0.0.1:${port} --expect ${fp}`));

  assert.equal((await c.pyctl("pin", certPem, "--host", "127.0.0.1:1")).code, 0);
  const other = await c.pysh("ls");
  assert.equal(other.code, 1, "a pin for another host is not accepted here (0.4 defect §14.20)");
  assert.match(other.stderr, /is not pinned/);

  assert.equal((await c.pyctl("pin", certPem, "--host", `127.0.0.1:${port}`)).code, 0);
  assert.equal((await c.pysh("ls")).code, 0);
  assert.equal((await c.pyctl("unpin", `127.0.0.1:${port}`)).code, 0);
  assert.equal((await c.pysh("ls")).code, 1);

  const global = await c.pyctl("pin", certPem);
  assert.equal(global.code, 0);
  assert.match(global.stdout, /^pinned server: ([0-9A-F]{2}:){31}[0-9A-F]{2}\n  -> .*trusted_servers\/[0-9A-F]{16}\.pem\n$/);
  const ok = await c.pysh("ls");
  assert.equal(ok.code, 0, ok.stderr);
  const list = JSON.parse((await c.pyctl("pin", "--list", "--json")).stdout);
  assert.deepEqual(list.map((r) => r.host).sort(), ["*", "127.0.0.1:1"]);
});

test("first contact: pyctl pin HOST:PORT needs --expect off a terminal, refuses a wrong one, and a changed certificate is not re-pinned silently", async () => {
  const c = new RemoteClient(d, "contact", port, { token });
  const noTty = await c.pyctl("pin", `127.0.0.1:${port}`);
  assert.equal(noTty.code, 1);
  assert.ok(noTty.stderr.includes(fp));
  assert.match(noTty.stderr, /not on a terminal: pass --expect/);
  const wrong = await c.pyctl("pin", `127.0.0.1:${port}`, "--expect", "SHA256:" + "A".repeat(43));
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /not the expected .*nothing pinned/);
  assert.equal(JSON.parse((await c.pyctl("pin", "--list", "--json")).stdout).length, 0);
  const good = await c.pyctl("pin", `127.0.0.1:${port}`, "--expect", fp);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, new RegExp(`\\(for 127\\.0\\.0\\.1:${port} only\\)`));
  assert.match((await c.pyctl("pin", `127.0.0.1:${port}`, "--expect", fp)).stdout, /^already pinned/);
  assert.equal((await c.pysh("ls")).code, 0);

  // The server's certificate is replaced: the pin refuses it, and pin does not overwrite.
  const d2 = newDaemon();
  const { port: port2 } = await startListening(d2, ["--listen", "127.0.0.1:0", "--tls"]);
  const dir = join(c.home, ".pythond", "tls", "trusted_servers", "hosts");
  const { renameSync } = await import("node:fs");
  renameSync(join(dir, `127.0.0.1:${port}`), join(dir, `127.0.0.1:${port2}`));
  const changed = await c.pyshWith({ PYTHOND_HOST: `127.0.0.1:${port2}` }, "ls");
  assert.equal(changed.code, 1);
  assert.match(changed.stderr, /does not match its pin: it presented SHA256:/);
  assert.match(changed.stderr, /pyctl unpin 127\.0\.0\.1:\d+ && pyctl pin/);
  const repin = await c.pyctl("pin", `127.0.0.1:${port2}`, "--expect", fp);
  assert.equal(repin.code, 1);
  assert.match(repin.stderr, /not its pinned certificate/);
});

test("first contact on a terminal: the fingerprint is shown and pinned only after 'yes'", async () => {
  const c = new RemoteClient(d, "tty", port, { token });
  const tm = new Tmux(c.env);
  try {
    tm.open("no", `${BIN("pyctl")} pin 127.0.0.1:${port}`);
    await tm.waitFor("no", /Pin it for 127\.0\.0\.1:\d+\? \[yes\/no\] $/m);
    assert.ok(tm.screen("no").includes(fp));
    tm.type("no", "no");
    tm.keys("no", "Enter");
    await tm.waitFor("no", /ERR not confirmed; nothing pinned\nEXIT=1/);
    tm.open("yes", `${BIN("pyctl")} pin 127.0.0.1:${port}`);
    await tm.waitFor("yes", /\[yes\/no\] $/m);
    tm.type("yes", "yes");
    tm.keys("yes", "Enter");
    await tm.waitFor("yes", /pinned server: .*\(for 127\.0\.0\.1:\d+ only\)[\s\S]*EXIT=0/);
  } finally {
    tm.kill();
  }
  assert.equal((await c.pysh("ls")).code, 0);
});

test("the token is never sent to a server whose certificate fails the pin check", async () => {
  // A real TLS server with another certificate, recording every byte it receives.
  const other = new RemoteClient(d, "impostor", 1);
  const made = JSON.parse((await other.pyctl("cert", "--json")).stdout);
  const received = [];
  const srv = tlsServer({ key: readFileSync(made.key), cert: readFileSync(made.cert) }, (s) => {
    s.on("data", (b) => received.push(b));
    s.on("error", () => {});
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  const p = srv.address().port;
  const c = await pinnedClient("victim");
  const r1 = await c.pyshWith({ PYTHOND_HOST: `127.0.0.1:${p}` }, "run", "w", "1");
  assert.equal(r1.code, 1);
  // and with the victim's pin copied to that address: a mismatch, still nothing sent
  assert.equal((await c.pyctl("pin", certPem, "--host", `127.0.0.1:${p}`)).code, 0);
  const r2 = await c.pyshWith({ PYTHOND_HOST: `127.0.0.1:${p}` }, "run", "w", "1");
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /does not match its pin/);
  await sleep(200);
  srv.close();
  assert.equal(Buffer.concat(received).length, 0, "not one byte (no HTTP request, no token) reached the impostor");
});

test("mTLS: a trusted client certificate and the token get in; an untrusted one or none is refused in the TLS handshake and logged", async () => {
  const m = newDaemon();
  const a = new RemoteClient(m, "trusted", 0);
  const b = new RemoteClient(m, "untrusted", 0);
  const none = new RemoteClient(m, "nocert", 0);
  const aCert = JSON.parse((await a.pyctl("cert", "--json")).stdout);
  await b.pyctl("cert");
  const t = await m.pyctl("trust", aCert.cert);
  assert.equal(t.code, 0);
  assert.match(t.stdout, /^trusted client: ([0-9A-F]{2}:){31}[0-9A-F]{2}\n  -> .*trusted_clients\/[0-9A-F]{16}\.pem\n$/);
  const { port: mp, auth, startText } = await startListening(m, ["--listen", "127.0.0.1:0", "--tls"]);
  assert.equal(auth, "mtls");
  assert.match(startText, /\nmtls: 1 trusted client cert\(s\)\n/);
  const mtoken = await tokenOf(m);
  const serverFp = JSON.parse((await m.pyctl("cert", "--json")).stdout).sha256;
  for (const c of [a, b, none]) {
    c.env.PYTHOND_HOST = `127.0.0.1:${mp}`;
    c.env.PYTHOND_TOKEN = mtoken;
    assert.equal((await c.pyctl("pin", `127.0.0.1:${mp}`, "--expect", serverFp)).code, 0);
  }
  const ok = await a.pysh("ls");
  assert.equal(ok.code, 0, ok.stderr);
  const wrongToken = await a.pyshWith({ PYTHOND_TOKEN: "0".repeat(32) }, "ls");
  assert.equal(wrongToken.code, 1, "mTLS does not replace the token");
  assert.match(wrongToken.stderr, /auth failed/);
  for (const c of [b, none]) {
    const r = await c.pysh("ls");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refused the TLS connection .*client certificates.*pyctl trust/);
  }
  await sleep(100);
  const log = accessLog(m);
  assert.match(log, /event=tls peer=127\.0\.0\.1:\d+ status=rejected detail=untrusted-client-certificate/);
  assert.match(log, /event=tls peer=127\.0\.0\.1:\d+ status=rejected detail=no-client-certificate/);
  assert.match(log, /event=mtls peer=127\.0\.0\.1:\d+ status=ok/);
  // trust --list / untrust: the last one gone, certificates are no longer required
  const listed = JSON.parse((await m.pyctl("trust", "--list", "--json")).stdout);
  assert.deepEqual(listed.map((e) => e.fingerprint), [aCert.fingerprint]);
  assert.equal((await m.pyctl("untrust", aCert.sha256)).code, 0);
  assert.equal((await m.pyctl("untrust", aCert.sha256)).code, 1);
  assert.equal((await none.pysh("ls")).code, 0);
});

test("errors name the fix: TLS against a plain port, plain against a TLS port, refused, timed out", async () => {
  const plain = newDaemon();
  const { port: pp } = await startListening(plain, ["--listen", "127.0.0.1:0"]);
  const c = new RemoteClient(d, "mismatch", pp, { token });
  const tlsToPlain = await c.pysh("ls");
  assert.equal(tlsToPlain.code, 1);
  assert.match(tlsToPlain.stderr, /^ERR cannot connect to wss:\/\/127\.0\.0\.1:\d+: the server does not speak TLS there -- unset PYTHOND_TLS/);
  const plainToTls = await c.pyshWith({ PYTHOND_HOST: `127.0.0.1:${port}`, PYTHOND_TLS: "" }, "ls");
  assert.equal(plainToTls.code, 1);
  assert.match(plainToTls.stderr, /^ERR cannot connect to ws:\/\/127\.0\.0\.1:\d+: the server speaks TLS there -- set PYTHOND_TLS=1/);
  const refused = await c.pyshWith({ PYTHOND_HOST: `127.0.0.1:${await freePort()}` }, "ls");
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /connection refused -- is the daemon listening there\?/);
  // a server that accepts and never answers
  const mute = netServer(() => {});
  await new Promise((r) => mute.listen(0, "127.0.0.1", r));
  const slow = await c.pyshWith({ PYTHOND_HOST: `127.0.0.1:${mute.address().port}` }, "ls");
  mute.close();
  assert.equal(slow.code, 1);
  assert.match(slow.stderr, /timed out -- check PYTHOND_HOST/);
  const badHost = await c.pyshWith({ PYTHOND_HOST: ":7399" }, "ls");
  assert.equal(badHost.code, 1);
  assert.match(badHost.stderr, /^ERR invalid PYTHOND_HOST: ":7399" has no host/);
  // a token cannot smuggle a header into the request
  const injected = await c.pyshWith({ PYTHOND_HOST: `127.0.0.1:${port}`, PYTHOND_TOKEN: `${token}\r\nX-Evil: 1` }, "ls");
  assert.equal(injected.code, 1);
  assert.match(injected.stderr, /^ERR PYTHOND_TOKEN is not a token/);
  const bigTokenFile = join(d.dir, "big-token");
  writeFileSync(bigTokenFile, "a".repeat(10_000));
  const big = await c.pyshWith({ PYTHOND_HOST: `127.0.0.1:${port}`, PYTHOND_TOKEN: "", PYTHOND_TOKEN_FILE: bigTokenFile }, "ls");
  assert.equal(big.code, 1);
  assert.match(big.stderr, /too large to be a token/);
});

/** Send raw bytes to the TLS port; resolves with what came back once the server closes (or null at ms). */
function raw(bytes, ms = 10_000) {
  return new Promise((resolve) => {
    const s = netConnect(port, "127.0.0.1");
    const got = [];
    const timer = setTimeout(() => (s.destroy(), resolve(null)), ms);
    s.on("connect", () => bytes.length && s.write(bytes));
    s.on("data", (b) => got.push(b));
    s.on("error", () => {});
    s.on("close", () => (clearTimeout(timer), resolve(Buffer.concat(got))));
  });
}

test("hostile input on the TLS port: plain HTTP gets a 400 in words, garbage and half-open handshakes are dropped, and the daemon serves on", async () => {
  const http = await raw(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"));
  assert.match(http.toString(), /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*this port speaks TLS/);
  const garbage = await raw(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), randomBytes(64)]));
  assert.notEqual(garbage, null, "garbage after a TLS record header: closed");
  const noise = await raw(randomBytes(4096).fill(0x41, 0, 1));
  assert.notEqual(noise, null);
  // half-open: a connection that says nothing, and one that stops inside the ClientHello
  const silent = await raw(Buffer.alloc(0));
  assert.notEqual(silent, null, "closed by the TLS I/O timeout (PYTHOND_TLS_BRIDGE_IO_TIMEOUT=1 here)");
  assert.equal(silent.length, 0);
  const half = await raw(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
  assert.notEqual(half, null, "closed by the TLS handshake timeout");
  // and a TLS client that stops after the handshake, before the WebSocket request
  const { connect: tlsConnect } = await import("node:tls");
  const stalled = await new Promise((resolve) => {
    const s = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    const timer = setTimeout(() => (s.destroy(), resolve(false)), 10_000);
    s.on("error", () => {});
    s.on("close", () => (clearTimeout(timer), resolve(true)));
  });
  assert.ok(stalled, "closed by the 2 s opening-handshake deadline");
  await sleep(100);
  assert.match(accessLog(d), /event=tls peer=127\.0\.0\.1:\d+ status=rejected detail=not-tls/);
  const c = await pinnedClient("after-garbage");
  const r = await c.pysh("ls");
  assert.equal(r.code, 0, r.stderr);
});

test("200 concurrent TLS clients are all served", { timeout: 180_000 }, async () => {
  const c = await pinnedClient("load");
  assert.equal((await c.pysh("new", "load")).code, 0);
  const N = 200;
  const replies = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const ws = await openTcpWs(port, { headers: { Authorization: `Bearer ${token}` } });
      const reply = await ws.ask(`run load\n${i} * 2`, 120_000);
      ws.close();
      return reply;
    }),
  );
  assert.deepEqual(replies, Array.from({ length: N }, (_, i) => String(i * 2)));
});

test("every pysh verb works against the remote daemon as locally", { timeout: 180_000 }, async () => {
  const c = await pinnedClient("verbs");
  const ok = async (...args) => {
    const r = await c.pysh(...args);
    assert.equal(r.code, 0, `pysh ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  assert.match(await ok("new", "v"), /^OK v pid=\d+\n$/);
  assert.equal(await ok("run", "v", "x = 20\nx + 1"), "21\n");
  const failed = await c.pysh("run", "v", "1/0");
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /ZeroDivisionError/);
  const fired = JSON.parse(await ok("fire", "v", "y = x * 2"));
  assert.equal(fired.status, "fired");
  assert.match(await ok("poll", "--wait", "30", "v", fired.cell_id), /"status": "done"/);
  const forked = JSON.parse(await ok("fork", "v", "z = x + 2"));
  assert.match(await ok("poll", "--wait", "30", "v", forked.cell_id), /"merged": \["z"\]/);
  assert.equal(await ok("run", "v", "(y, z)"), "(40, 22)\n");
  assert.match(await ok("ls"), /^  v: alive pid=\d+ \(pty\)/m);
  assert.match(await ok("status", "v"), /^\{"state": "idle"/);
  assert.match(await ok("vars", "v"), /"x", "y", "z"/);
  assert.match(await ok("complete", "v", "zz"), /"matches"/);
  assert.match(await ok("cells", "v"), /"cell_id"/);
  const long = JSON.parse(await ok("fire", "v", "import time; time.sleep(60)"));
  const queued = JSON.parse(await ok("fire", "v", "never = 1"));
  assert.match(await ok("cancel", "v", queued.cell_id), /^OK cancelled/);
  await sleep(300);
  assert.match(await ok("int", "v"), /^OK int v/);
  const interrupted = await c.pysh("poll", "--wait", "30", "v", long.cell_id);
  assert.equal(interrupted.code, 1, "poll of a failed (interrupted) cell exits 1, as locally");
  assert.match(interrupted.stdout, /KeyboardInterrupt/);
  assert.match(await ok("restart", "v"), /^OK v pid=\d+/);
  assert.equal(await ok("run", "v", "'x' in globals()"), "False\n");

  // attach, with a resize, in a real terminal
  const tm = new Tmux(c.env);
  try {
    tm.open("a", `${BIN("pysh")} attach v`, { cols: 100, rows: 30 });
    await tm.waitFor("a", />>> $/m, 20_000);
    tm.type("a", "attached = 'yes'");
    tm.keys("a", "Enter");
    await tm.waitFor("a", /attached = 'yes'\n>>> $/m);
    tm.tmux("resize-window", "-t", "main:a", "-x", "87", "-y", "23");
    await sleep(400);
    tm.type("a", "tuple(os.get_terminal_size())");
    tm.keys("a", "Enter");
    await tm.waitFor("a", /^\(87, 23\)$/m);
    tm.keys("a", "C-]");
    await tm.waitFor("a", /EXIT=0/);
  } finally {
    tm.kill();
  }
  assert.equal(await ok("run", "v", "attached"), "yes\n");
  assert.match(await ok("kill", "v"), /^OK killed v/);
});

test("the local path loads nothing of TLS; the remote path does", async () => {
  const hook = join(d.dir, "tls-probe.cjs");
  writeFileSync(hook, `process.on("exit", () => process.stderr.write("TLS_LOADED=" + process.moduleLoadList.some((m) => / (tls|_tls_wrap|crypto)$/.test(m)) + "\\n"));\n`);
  const { cli } = await import("./helpers/daemon.mjs");
  const local = await cli(d.env, "pysh", ["ls"], { envExtra: { NODE_OPTIONS: `--require ${hook}` } });
  assert.equal(local.code, 0, local.stderr);
  assert.match(local.stderr, /TLS_LOADED=false/);
  const c = await pinnedClient("cold");
  const remote = await c.pyshWith({ NODE_OPTIONS: `--require ${hook}` }, "ls");
  assert.equal(remote.code, 0, remote.stderr);
  assert.match(remote.stderr, /TLS_LOADED=true/);
});
