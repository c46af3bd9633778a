// Remote daemons for the TLS tests: a real `pythond daemon --listen 127.0.0.1:0 ...` (port 0:
// the kernel picks a free one, the start line names it), clients with their own HOME (their
// own certificate and pins), and raw WebSockets over TCP/TLS.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { BIN, ROOT, cli, opened } from "./daemon.mjs";

/** ../shared/peers beside the checkout (a worktree one level deeper finds it one level up). */
export const PEERS = [process.env.PYTHOND_PEERS, join(ROOT, "..", "shared", "peers"), join(ROOT, "..", "..", "shared", "peers")].find(
  (p) => p && existsSync(join(p, "pythond-0.4", "pythond.py")),
);

/** Run pythond 0.4 itself (pysh, pyctl or pythond) with Debian's python3, as ../shared/peers/README.md says. */
export function peer04(env, prog, args, { timeoutMs = 60_000 } = {}) {
  if (!PEERS) throw new Error("pythond 0.4 not found: ../shared/peers/pythond-0.4 (or PYTHOND_PEERS)");
  const main = { pysh: "pysh_main", pyctl: "pyctl_main", pythond: "main" }[prog];
  const code = `import sys, pythond; sys.argv = [${JSON.stringify(prog)}] + sys.argv[1:]; sys.exit(pythond.${main}())`;
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/python3", ["-c", code, ...args], {
      env: { ...env, PYTHONPATH: `${join(PEERS, "websockets")}:${join(PEERS, "pythond-0.4")}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = [];
    const err = [];
    child.stdout.on("data", (c) => out.push(c));
    child.stderr.on("data", (c) => err.push(c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`0.4 ${prog} ${args.join(" ")} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}

/** Start a pythond 0.4 daemon (its own process) and resolve {child, port, token, text} once it listens. */
export function start04(env, args) {
  if (!PEERS) throw new Error("pythond 0.4 not found: ../shared/peers/pythond-0.4 (or PYTHOND_PEERS)");
  const code = `import sys, pythond; sys.argv = ["pythond"] + sys.argv[1:]; sys.exit(pythond.main())`;
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/python3", ["-c", code, "daemon", ...args], {
      env: { ...env, PYTHONPATH: `${join(PEERS, "websockets")}:${join(PEERS, "pythond-0.4")}` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let text = "";
    const timer = setTimeout(() => reject(new Error(`0.4 daemon did not start: ${text}`)), 30_000);
    child.stderr.on("data", (c) => {
      text += c.toString();
      const m = /token=([0-9a-f]{32})\n/.exec(text);
      // with TLS, the fingerprint line follows the token line
      if (m && /:\/\/\S+:(\d+)/.test(text) && (!args.includes("--tls") || /fingerprint=\S+\n/.test(text))) {
        clearTimeout(timer);
        resolve({ child, token: m[1], text: () => text });
      }
    });
    child.once("exit", (c) => {
      clearTimeout(timer);
      reject(new Error(`0.4 daemon exited (${c}): ${text}`));
    });
  });
}

/**
 * Start d's daemon with a TCP listener. Resolves {port, url, lines, child} once the TCP
 * start line is printed (the Unix line comes first).
 */
export function startListening(d, args = ["--listen", "127.0.0.1:0", "--tls"], envExtra = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN("pythond"), "daemon", ...args], { env: { ...d.env, ...envExtra }, stdio: ["ignore", "ignore", "pipe"] });
    d.children.push(child);
    d.daemon = child;
    let err = "";
    let done = false;
    const timer = setTimeout(() => reject(new Error(`daemon did not listen: ${err}`)), 20_000);
    child.stderr.on("data", (c) => {
      err = (err + c.toString()).slice(-65_536);
      const m = /pythond pid=\d+ (wss?):\/\/(\S+):(\d+) mode=pty auth=(\w+)\n/.exec(err);
      // the lines after the start line come in the same write
      if (!done && m && /\n(fingerprint=|auth=token|token=)[^\n]*\n/.test(err.slice(m.index))) {
        done = true;
        clearTimeout(timer);
        resolve({ port: Number(m[3]), scheme: m[1], auth: m[4], child, startText: err });
      }
    });
    child.stderrText = () => err;
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`daemon exited (${code}): ${err}`));
    });
  });
}

/** Stop a listening daemon (SIGTERM) and wait for it to exit. */
export async function stopListening(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

/** A client machine: its own HOME (certificate, pins), pointed at a remote daemon. */
export class RemoteClient {
  constructor(d, name, port, { tls = true, token } = {}) {
    this.home = join(d.dir, `client-${name}`);
    mkdirSync(this.home, { mode: 0o700, recursive: true });
    this.env = {
      ...d.env,
      HOME: this.home,
      // no local daemon for a client: a stray local connection would fail loudly
      PYTHOND_SOCK: join(d.dir, `client-${name}.sock`),
      PYTHOND_HOST: `127.0.0.1:${port}`,
      PYTHOND_TLS: tls ? "1" : "",
      PYTHOND_TOKEN: token ?? "",
    };
  }
  pysh(...args) {
    return cli(this.env, "pysh", args);
  }
  pyshWith(envExtra, ...args) {
    return cli(this.env, "pysh", args, { envExtra });
  }
  pyctl(...args) {
    return cli(this.env, "pyctl", args);
  }
  pyctlWith(envExtra, ...args) {
    return cli(this.env, "pyctl", args, { envExtra });
  }
}

/** The daemon's token (made on first use, as `pyctl token` prints it). */
export async function tokenOf(d) {
  const r = await cli(d.env, "pyctl", ["token"]);
  return r.stdout.trim();
}

export const accessLog = (d) => readFileSync(join(d.run, "pythond", "access.log"), "utf8");

/**
 * A raw WebSocket to a TCP daemon with a queue of received messages; resolves once open.
 * opts: tls, headers, path, protocols, cert/key (client certificate).
 */
export function openTcpWs(port, { tls = true, headers = {}, path = "/", protocols = ["pythond.0.4"], cert, key } = {}) {
  return opened(new WebSocket(`${tls ? "wss" : "ws"}://127.0.0.1:${port}${path}`, protocols, { headers, rejectUnauthorized: false, cert, key, handshakeTimeout: 10_000 }));
}
