// The one daemon test harness: an isolated pythond for a test or a test file, with its own
// HOME, XDG_RUNTIME_DIR and socket in a temp dir, helpers to run the real CLIs and raw
// WebSockets against it, and a cleanup that ends the daemon and every agent it started (found
// by their PYTHOND_SOCK, never by name). A tmux terminal to drive is in tmux.mjs.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, chmodSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BIN = (name) => join(ROOT, "bin", name);

export function makeEnv(extra = {}) {
  const dir = mkdtempSync(join(tmpdir(), "pyd-"));
  chmodSync(dir, 0o700);
  const home = join(dir, "home");
  const run = join(dir, "run");
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(run, { mode: 0o700 });
  chmodSync(run, 0o700);
  const sock = join(dir, "d.sock");
  const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: run, PYTHOND_SOCK: sock, PYTHOND_NO_AUTOSTART: "1" };
  delete env.NODE_TEST_CONTEXT;
  delete env.PYTHOND_TOKEN; // a token of the caller's must not reach a test's daemon
  Object.assign(env, extra);
  return { dir, home, run, sock, env };
}

/** Run a CLI to completion: {code, stdout, stderr}. */
export function cli(env, name, args, { input, timeoutMs = 60_000, envExtra = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN(name), ...args], { env: { ...env, ...envExtra }, stdio: ["pipe", "pipe", "pipe"] });
    const out = [];
    const err = [];
    child.stdout.on("data", (c) => out.push(c));
    child.stderr.on("data", (c) => err.push(c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} ${args.join(" ")} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin.end(input ?? "");
  });
}

export class TestDaemon {
  constructor(extraEnv = {}) {
    Object.assign(this, makeEnv(extraEnv));
    this.children = [];
  }

  pysh(...args) {
    return cli(this.env, "pysh", args);
  }
  pyshIn(input, ...args) {
    return cli(this.env, "pysh", args, { input });
  }
  pyctl(...args) {
    return cli(this.env, "pyctl", args);
  }
  /** pysh run to completion synchronously: its stdout; throws on a non-zero exit. For tests
   * that drive a terminal or a raw socket between calls and want nothing read meanwhile. */
  pyshSync(...args) {
    return execFileSync(process.execPath, [BIN("pysh"), ...args], { env: this.env, encoding: "utf8", timeout: 20_000 });
  }
  /** The last 16 KiB the daemon wrote to stderr (where it mirrors the access log). */
  log() {
    return this.daemon?.stderrText?.() ?? "";
  }

  /** Start `pythond daemon` in the foreground (of the checkout at `root`: benches compare
   * builds); resolves once it listens. */
  start({ root = ROOT } = {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(root, "bin", "pythond"), "daemon"], { env: this.env, stdio: ["ignore", "ignore", "pipe"] });
      this.children.push(child);
      this.daemon = child;
      let err = "";
      let started = false;
      const timer = setTimeout(() => reject(new Error(`daemon of ${root} did not start: ${err}`)), 15_000);
      child.stderr.on("data", (c) => {
        // Keep a bounded tail: the access log is mirrored here on every request, and this
        // process may be the one timing requests (bench/).
        err = (err + c.toString()).slice(-16_384);
        if (!started && err.includes("ws://")) {
          started = true;
          clearTimeout(timer);
          resolve(child);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited (${code}): ${err}`));
      });
      child.stderrText = () => err;
    });
  }

  /** A raw WebSocket to the daemon with a queue of received messages. */
  ws(protocols = ["pythond.0.4"]) {
    return openWs(this.sock, protocols);
  }

  /** Every process whose environment names our socket: the daemon(s) and their agents. */
  ourPids() {
    const pids = [];
    for (const p of readdirSync("/proc")) {
      if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
      try {
        const env = readFileSync(`/proc/${p}/environ`, "latin1");
        if (env.split("\0").includes(`PYTHOND_SOCK=${this.sock}`)) pids.push(Number(p));
      } catch {
        /* gone or not ours to read */
      }
    }
    return pids;
  }

  async cleanup() {
    await cli(this.env, "pyctl", ["stop"], { timeoutMs: 15_000 }).catch(() => {});
    for (const pid of this.ourPids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function openWs(sock, protocols) {
  return opened(new WebSocket(`ws+unix://${sock}:/`, protocols, { maxPayload: 256 * 1024 * 1024 }));
}

/**
 * A ws client with a queue of received messages (ws.next, ws.ask, ws.closed); resolves once
 * open, rejects on an error or an HTTP answer instead of the upgrade.
 */
export function opened(ws) {
  return new Promise((resolve, reject) => {
    const queue = [];
    const waiters = [];
    ws.closed = new Promise((r) => ws.once("close", (code, reason) => r({ code, reason: reason.toString() })));
    ws.on("message", (data, isBinary) => {
      const msg = isBinary ? { binary: true, data } : { binary: false, text: data.toString("utf8") };
      const w = waiters.shift();
      if (w) w(msg);
      else queue.push(msg);
    });
    /** The next message, or null if the connection closes first or none comes within ms. */
    ws.next = (ms = 30_000) =>
      new Promise((res) => {
        if (queue.length) return res(queue.shift());
        const timer = setTimeout(() => res(null), ms);
        waiters.push((m) => {
          clearTimeout(timer);
          res(m);
        });
        ws.closed.then(() => {
          clearTimeout(timer);
          res(null);
        });
      });
    /** Send a text frame and return the next text reply. */
    ws.ask = async (text, ms) => {
      ws.send(text);
      const m = await ws.next(ms);
      return m && !m.binary ? m.text : m;
    };
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
  });
}

/** A started daemon cleaned up after test t; with `session`, that session is created too;
 * `env` adds to its environment (and its sessions'). */
export async function startedDaemon(t, session, { env } = {}) {
  const d = new TestDaemon(env);
  t.after(() => d.cleanup());
  await d.start();
  if (session) await d.pysh("new", session);
  return d;
}

/** A factory of isolated daemons for one test file; all are cleaned up after it. */
export function daemonFactory(after) {
  const all = [];
  after(async () => {
    for (const d of all) await d.cleanup();
  });
  return (extraEnv) => {
    const d = new TestDaemon(extraEnv);
    all.push(d);
    return d;
  };
}

/** Resolves true once process pid is gone, false if it is still there after ms. */
export async function exited(pid, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
