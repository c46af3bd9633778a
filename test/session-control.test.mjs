// The daemon keeps control of its own agents: a stray connection to an agent's private socket
// is refused (only a peer proving the session's secret may take over), a live session is never
// called dead (a link taken away is regained), and errors advise what keeps state.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { createHmac } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory } from "./helpers/daemon.mjs";

const make = daemonFactory(after);

/** A raw framed connection to an agent socket (docs/PROTOCOL.md "Framing"). */
function rawAgent(path) {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = Buffer.alloc(0);
    const frames = [];
    const waiters = [];
    let closed = false;
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const n = buf.readUInt32BE(0);
        if (buf.length < 4 + n) break;
        const h = buf.readUInt32BE(4);
        const header = JSON.parse(buf.subarray(8, 8 + h).toString("utf8"));
        buf = buf.subarray(4 + n);
        const w = waiters.shift();
        if (w) w(header);
        else frames.push(header);
      }
    });
    sock.on("close", () => {
      closed = true;
      for (const w of waiters.splice(0)) w(null);
    });
    sock.on("error", () => {});
    const send = (header) => {
      const h = Buffer.from(JSON.stringify(header));
      const head = Buffer.alloc(8);
      head.writeUInt32BE(4 + h.length, 0);
      head.writeUInt32BE(h.length, 4);
      sock.write(Buffer.concat([head, h]));
    };
    const next = () => new Promise((r) => (frames.length ? r(frames.shift()) : closed ? r(null) : waiters.push(r)));
    sock.once("connect", () => resolve({ sock, send, next, closed: () => closed }));
    sock.once("error", reject);
  });
}

function agentFiles(d) {
  const dir = `${d.sock}.d`;
  return readdirSync(dir).map((f) => join(dir, f));
}

async function sessionSocket(d, name) {
  const pid = JSON.parse((await d.pysh("status", name)).stdout).pid;
  for (const f of agentFiles(d).filter((f) => f.endsWith(".sock"))) {
    const a = await rawAgent(f);
    const hello = await a.next();
    a.sock.destroy();
    if (hello.pid === pid) return { path: f, pid };
  }
  throw new Error(`no socket for ${name}`);
}

test("a stray connection to an agent's socket cannot take it: the session lives on, namespace intact", async () => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "s")).code, 0);
  assert.equal((await d.pysh("run", "s", "x = 41")).code, 0);
  const { path } = await sessionSocket(d, "s");

  // Any well-formed request without the proof: refused, and the connection is closed.
  const stray = await rawAgent(path);
  const hello = await stray.next();
  assert.equal(hello.k, "hello");
  assert.match(hello.nonce, /^[0-9a-f]{32}$/);
  stray.send({ k: "req", i: 1, op: "info" });
  const refused = await stray.next();
  assert.deepEqual([refused.k, refused.e.type], ["err", "AuthError"]);
  assert.equal(await stray.next(), null, "the agent hangs up");

  // A wrong proof fares no better.
  const forger = await rawAgent(path);
  await forger.next();
  forger.send({ k: "req", i: 1, op: "auth", mac: "0".repeat(64) });
  assert.equal((await forger.next()).e.type, "AuthError");

  const r = await d.pysh("run", "s", "x + 1");
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "42\n", ""]);
  assert.equal(JSON.parse((await d.pysh("ls", "--json")).stdout)[0].state, "alive");
});

test("the secret is kept 0600 in the 0700 agent dir, and a peer proving it takes over; the daemon regains it", async () => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "s")).code, 0);
  assert.equal((await d.pysh("run", "s", "x = 41")).code, 0);
  const { path, pid } = await sessionSocket(d, "s");
  assert.equal(statSync(`${d.sock}.d`).mode & 0o777, 0o700);
  const keyFile = path.replace(/\.sock$/, ".key");
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const { secret } = JSON.parse(readFileSync(keyFile, "utf8"));
  assert.match(secret, /^[0-9a-f]{64}$/);

  // Prove the secret: this peer becomes the controller (as a re-adopting daemon would).
  const peer = await rawAgent(path);
  const hello = await peer.next();
  const mac = createHmac("sha256", Buffer.from(secret, "hex")).update(hello.nonce).digest("hex");
  peer.send({ k: "req", i: 1, op: "auth", mac });
  assert.equal((await peer.next()).k, "res");

  // The daemon never calls the live session dead: it takes it back with its own secret.
  const r = await d.pysh("run", "s", "x + 1");
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "42\n", ""]);
  const st = JSON.parse((await d.pysh("status", "s")).stdout);
  assert.equal(st.pid, pid);
  assert.deepEqual(await peer.next(), { k: "ev", ev: "replaced" }, "the peer is told it lost the agent");
  assert.equal(await peer.next(), null);
});

test("a session whose agent died is dead with its reason and one piece of advice that keeps settings", async () => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "--env", "MARK=kept", "doomed")).code, 0);
  const crash = await d.pysh("run", "doomed", "import os; os._exit(7)");
  assert.equal(crash.code, 1);
  assert.equal(crash.stderr, "ERR session 'doomed' dead (exited with status 7) -- pysh restart doomed starts it again with the same --python, --cwd and --env\n");
  const again = await d.pysh("run", "doomed", "1");
  assert.match(again.stderr, /^ERR session 'doomed' dead \(exited with status 7\) -- pysh restart doomed /);
  assert.equal(again.stderr.split(" -- ").length, 2, "one piece of advice");
  // The advice works: same settings after restart.
  assert.equal((await d.pysh("restart", "doomed")).code, 0);
  assert.equal((await d.pysh("run", "doomed", "os.environ['MARK']")).stdout, "kept\n");
});

test("restart of a re-adopted session keeps its --env (settings live in the agent's key file)", async () => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "--env", "MARK=kept", "s")).code, 0);
  const r = await d.pyctl("restart");
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await d.pysh("restart", "s")).code, 0);
  assert.equal((await d.pysh("run", "s", "os.environ.get('MARK')")).stdout, "kept\n");
});

test("a garbled key file: the agent is not adopted, nor is its socket removed; the daemon says why", async () => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "s")).code, 0);
  const { path, pid } = await sessionSocket(d, "s");
  const keyFile = path.replace(/\.sock$/, ".key");
  const original = readFileSync(keyFile);
  assert.equal((await d.pysh("run", "s", "kept = 'yes'")).code, 0);
  for (const garbage of ["not json", JSON.stringify({ secret: "zz", settings: {} }), "{".repeat(100)]) {
    writeFileSync(keyFile, garbage);
    const r = await d.pyctl("restart");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^OK restarted \(0 sessions re-adopted\)/);
    assert.ok(existsSync(path), "the live agent's socket is kept");
    process.kill(pid, 0); // still alive
  }
  const daemonLog = readFileSync(join(d.run, "pythond", "daemon.log"), "utf8");
  assert.match(daemonLog, /pythond: not adopting the agent at .*\.sock: cannot prove this daemon owns the agent at .*: .*is not (JSON|a valid key file).*; it is left running/);
  // With its key back, the next daemon adopts it, namespace and all.
  writeFileSync(keyFile, original);
  assert.match((await d.pyctl("restart")).stdout, /^OK restarted \(1 session re-adopted\)/);
  assert.equal((await d.pysh("run", "s", "kept")).stdout, "yes\n");
});

test("a dead agent's keeper hands its last words only to a peer proving the secret", async () => {
  const d = make();
  const daemon = await d.start();
  assert.equal((await d.pysh("new", "s")).code, 0);
  const { path, pid } = await sessionSocket(d, "s");
  const { secret } = JSON.parse(readFileSync(path.replace(/\.sock$/, ".key"), "utf8"));
  // With its daemon gone, the interpreter writes and dies: only the keeper holds the words.
  daemon.kill("SIGKILL");
  await new Promise((r) => daemon.once("exit", r));
  const writer = await rawAgent(path); // the interpreter still answers: prove, then run a crash
  const hello = await writer.next();
  writer.send({ k: "req", i: 1, op: "auth", mac: createHmac("sha256", Buffer.from(secret, "hex")).update(hello.nonce).digest("hex") });
  assert.equal((await writer.next()).k, "res");
  writer.send({ k: "req", i: 2, op: "adopt" });
  assert.equal((await writer.next()).k, "res");
  const code = Buffer.from('import os\nos.write(1, b"kept words")\nos._exit(3)');
  const h = Buffer.from(JSON.stringify({ k: "req", i: 3, op: "exec", cell: "0123456789ab", mode: "run", wait: true, b: [code.length] }));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(4 + h.length + code.length, 0);
  head.writeUInt32BE(h.length, 4);
  writer.sock.write(Buffer.concat([head, h, code]));
  for (let f = await writer.next(); f !== null; f = await writer.next());
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 50));
    } catch {
      break; // the interpreter is gone; its keeper now answers on the socket
    }
  }

  // A peer without the secret gets the keeper's challenge and a refusal, not the words.
  const stray = await rawAgent(path);
  const challenge = await stray.next();
  assert.deepEqual([challenge.k, challenge.last], ["hello", true]);
  stray.send({ k: "req", i: 1, op: "auth", mac: "0".repeat(64) });
  assert.equal((await stray.next()).e.type, "AuthError");
  assert.equal(await stray.next(), null, "the keeper hangs up without the report");

  // The holder of the secret still gets them.
  const owner = await rawAgent(path);
  const again = await owner.next();
  owner.send({ k: "req", i: 1, op: "auth", mac: createHmac("sha256", Buffer.from(secret, "hex")).update(again.nonce).digest("hex") });
  assert.equal((await owner.next()).k, "res");
  const last = await owner.next();
  assert.equal(last.k, "last");
  assert.match(last.reason, /status 3/);
});
