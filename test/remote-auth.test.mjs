// The TCP listener's token (compat §2), over real TLS on 127.0.0.1 and over the plain loopback
// listener: right, wrong, missing, in the URL; persisted across restarts and rotated; repeated
// failures slowed down and logged; the access log holds the real peer and never the token or
// code; key and token files are private.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { statSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory } from "./helpers/daemon.mjs";
import { startListening, stopListening, RemoteClient, tokenOf, accessLog, openTcpWs } from "./helpers/remote.mjs";

const newDaemon = daemonFactory(after);
const mode = (p) => statSync(p).mode & 0o777;

async function expectRejected(ws) {
  const first = await ws.next(15_000);
  assert.deepEqual(first, { binary: false, text: "ERR auth failed" });
  const closed = await ws.closed;
  assert.deepEqual(closed, { code: 1008, reason: "auth failed" });
}

test("TLS listener: the right token is served; wrong, missing, lowercase 'bearer' and a token in the URL get 0.4's ERR auth failed + 1008", async () => {
  const d = newDaemon();
  const { port, scheme, auth, startText } = await startListening(d, ["--listen", "127.0.0.1:0", "--tls", "--show-token"]);
  const token = await tokenOf(d);
  assert.equal(scheme, "wss");
  assert.equal(auth, "token");
  assert.match(startText, new RegExp(`\ntoken=${token}\n`)); // --show-token
  assert.match(startText, /\nfingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}\n/);

  const good = await openTcpWs(port, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(await good.ask("ls"), "(no sessions)");
  good.close();

  await expectRejected(await openTcpWs(port, { headers: { Authorization: "Bearer 0123456789abcdef0123456789abcdef" } }));
  await expectRejected(await openTcpWs(port));
  await expectRejected(await openTcpWs(port, { headers: { Authorization: `bearer ${token}` } }));
  await expectRejected(await openTcpWs(port, { path: `/?token=${token}` }));
  await expectRejected(await openTcpWs(port, { path: `/${token}`, headers: { Authorization: `Bearer ${token}x` } }));
  // the structured protocol is guarded the same way
  await expectRejected(await openTcpWs(port, { protocols: ["pythond.json.1"] }));
  await stopListening(d.daemon);
});

test("plain ws:// on a loopback listener still needs the token; pysh says which fix applies", async () => {
  const d = newDaemon();
  const { port, scheme, startText } = await startListening(d, ["--listen", "127.0.0.1:0"]);
  assert.equal(scheme, "ws");
  assert.match(startText, /auth=token \(use --show-token to print it/);
  assert.doesNotMatch(startText, /token=[0-9a-f]{32}/);
  const token = await tokenOf(d);
  const c = new RemoteClient(d, "plain", port, { tls: false, token });
  assert.equal((await c.pysh("new", "w")).code, 0);
  assert.equal((await c.pysh("run", "w", "6 * 7")).stdout, "42\n");
  const wrong = await c.pyshWith({ PYTHOND_TOKEN: "f".repeat(32) }, "ls");
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^ERR auth failed at 127\.0\.0\.1:\d+: wrong token -- check PYTHOND_TOKEN/);
  const none = await c.pyshWith({ PYTHOND_TOKEN: "" }, "ls");
  assert.equal(none.code, 1);
  assert.match(none.stderr, /ERR no token: set PYTHOND_TOKEN or PYTHOND_TOKEN_FILE/);
  await stopListening(d.daemon);
});

test("token: PYTHOND_TOKEN_FILE works; the token survives a restart; --rotate refuses the old one at once", async () => {
  const d = newDaemon();
  let { port } = await startListening(d, ["--listen", "127.0.0.1:0"]);
  const token = await tokenOf(d);
  assert.match(token, /^[0-9a-f]{32}$/);
  const tokenFile = join(d.home, ".pythond", "token");
  assert.equal(mode(tokenFile), 0o600);
  assert.equal(mode(join(d.home, ".pythond")), 0o700);
  const c = new RemoteClient(d, "file", port, { tls: false });
  const viaFile = await c.pyshWith({ PYTHOND_TOKEN_FILE: tokenFile }, "ls");
  assert.equal(viaFile.code, 0, viaFile.stderr);
  assert.equal(viaFile.stdout, "(no sessions)\n");

  await stopListening(d.daemon);
  ({ port } = await startListening(d, ["--listen", "127.0.0.1:0"]));
  assert.equal(await tokenOf(d), token, "the token persists");
  c.env.PYTHOND_HOST = `127.0.0.1:${port}`;
  assert.equal((await c.pyshWith({ PYTHOND_TOKEN: token }, "ls")).code, 0);

  const rotated = await d.pyctl("token", "--rotate", "--json");
  assert.equal(rotated.code, 0);
  const fresh = JSON.parse(rotated.stdout).token;
  assert.match(fresh, /^[0-9a-f]{32}$/);
  assert.notEqual(fresh, token);
  assert.equal(readFileSync(tokenFile, "utf8"), fresh + "\n");
  assert.equal(mode(tokenFile), 0o600);
  const old = await c.pyshWith({ PYTHOND_TOKEN: token }, "ls");
  assert.equal(old.code, 1);
  assert.match(old.stderr, /auth failed/);
  assert.equal((await c.pyshWith({ PYTHOND_TOKEN: fresh }, "ls")).code, 0);
  await stopListening(d.daemon);
});

test("a peer that keeps failing is slowed down and logged (never with the token); the right token still gets in", async () => {
  const d = newDaemon();
  const { port, child } = await startListening(d, ["--listen", "127.0.0.1:0"]);
  const token = await tokenOf(d);
  for (let i = 0; i < 5; i++) await expectRejected(await openTcpWs(port, { tls: false, headers: { Authorization: `Bearer guess${i}` } }));
  const good = await openTcpWs(port, { tls: false, headers: { Authorization: `Bearer ${token}` } });
  assert.equal(await good.ask("ls"), "(no sessions)"); // served after its wait, no frame lost
  good.close();
  await new Promise((r) => setTimeout(r, 100));
  const log = accessLog(d);
  assert.match(log, /event=auth conn_id=\d+ peer=127\.0\.0\.1:\d+ status=rejected detail=failures=5/);
  assert.match(log, /event=auth conn_id=\d+ peer=127\.0\.0\.1:\d+ status=ok/);
  assert.match(child.stderrText(), /WARN: auth rejected from 127\.0\.0\.1:\d+ \(5 failures; slowing down\)/);
  assert.ok(!log.includes("guess") && !log.includes(token));
  await stopListening(d.daemon);
});

test("the access log records the real TLS peer and neither the token nor the code; cert/key/token files are private", async () => {
  const d = newDaemon();
  const { port } = await startListening(d, ["--listen", "127.0.0.1:0", "--tls"]);
  const token = await tokenOf(d);
  const ws = await openTcpWs(port, { headers: { Authorization: `Bearer ${token}` } });
  assert.match(await ws.ask("new w"), /^OK w pid=\d+$/);
  assert.equal(await ws.ask("run w\nsecret_marker_4711 = 'x'; 'ok'"), "ok");
  const { localPort } = ws._socket;
  ws.close();
  await ws.closed;
  await new Promise((r) => setTimeout(r, 100));
  const log = accessLog(d);
  assert.match(log, new RegExp(`event=command conn_id=\\d+ peer=127\\.0\\.0\\.1:${localPort} cmd=run session=w body_bytes=\\d+`));
  assert.match(log, new RegExp(`event=tls peer=127\\.0\\.0\\.1:${localPort} status=accepted`));
  assert.ok(!log.includes(token), "no token in the access log");
  assert.ok(!log.includes("secret_marker_4711"), "no code in the access log");
  const tls = join(d.home, ".pythond", "tls");
  assert.equal(mode(tls), 0o700);
  assert.equal(mode(join(tls, "key.pem")), 0o600);
  assert.equal(mode(join(tls, "cert.pem")), 0o644);
  assert.equal(mode(join(d.home, ".pythond", "token")), 0o600);
  assert.equal(mode(join(d.run, "pythond", "access.log")), 0o600);
  await stopListening(d.daemon);
});

test("a non-loopback listener is always TLS, and the start line says so; a bad --listen is refused", async () => {
  const d = newDaemon();
  const { scheme, startText } = await startListening(d, ["--listen", "0.0.0.0:0"]);
  assert.equal(scheme, "wss");
  assert.match(startText, /\ntls: on \(required for a non-loopback listener\)\n/);
  await stopListening(d.daemon);
  for (const bad of ["127.0.0.1:99999", "127.0.0.1:x", "bad host:1"]) {
    const r = await d.pyctl("start", "--listen", bad);
    assert.equal(r.code, 1, bad);
    assert.match(r.stderr, /^ERR invalid --listen: /m, bad);
  }
  const usage = await d.pyctl("start", "--tls");
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--tls needs --listen/);
});

test("pyctl restart keeps the TCP listener: same port, TLS kept, same token; sessions re-adopted", async () => {
  const d = newDaemon();
  const { port, startText } = await startListening(d, ["--listen", "127.0.0.1:0", "--tls"]);
  const token = await tokenOf(d);
  const c = new RemoteClient(d, "restart", port, { tls: true, token });
  const fp = /--expect (SHA256:\S+)/.exec(startText)[1];
  assert.equal((await c.pyctl("pin", `127.0.0.1:${port}`, "--expect", fp)).code, 0);
  assert.equal((await c.pysh("new", "w")).code, 0);
  assert.equal((await c.pysh("run", "w", "x = 5")).code, 0);
  const r = await d.pyctl("restart");
  assert.equal(r.code, 0, r.stderr);
  const again = await c.pysh("run", "w", "x * 2");
  assert.deepEqual([again.code, again.stdout], [0, "10\n"], again.stderr);
  const plain = await c.pyshWith({ PYTHOND_TLS: "" }, "ls");
  assert.equal(plain.code, 1, "the next daemon's listener is TLS too");
});
