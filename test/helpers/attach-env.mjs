// Helpers for the attach tests: an isolated daemon (own HOME, runtime dir and socket) and a
// tmux server of our own (-L) that drives a real terminal.
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawn, execFileSync } from "node:child_process";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const bin = (name) => join(root, "bin", name);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startDaemon() {
  const dir = mkdtempSync(join(tmpdir(), "pythond-attach-"));
  const run = join(dir, "run");
  mkdirSync(run, { mode: 0o700 });
  const sock = join(run, "pythond.sock");
  const env = { ...process.env, HOME: dir, XDG_RUNTIME_DIR: run, PYTHOND_SOCK: sock, PYTHOND_NO_AUTOSTART: "1" };
  const child = spawn(bin("pythond"), ["daemon"], { env, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const until = Date.now() + 15_000;
  while (!existsSync(sock)) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`daemon did not start: ${log}`);
    await sleep(20);
  }
  const pysh = (...args) => execFileSync(bin("pysh"), args, { env, encoding: "utf8", timeout: 20_000 });
  return {
    dir,
    sock,
    env,
    pysh,
    log: () => log,
    async stop() {
      try {
        execFileSync(bin("pyctl"), ["stop"], { env, timeout: 10_000, stdio: "ignore" });
      } catch {
        /* already gone */
      }
      const deadline = Date.now() + 10_000;
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(50);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let serial = 0;
/** One tmux server of our own, with one window per terminal. */
export class Tmux {
  constructor(env) {
    this.env = env;
    this.sock = `pythond-attach-${process.pid}-${serial++}`;
    this.started = false;
  }
  tmux(...args) {
    return execFileSync("tmux", ["-L", this.sock, "-f", "/dev/null", ...args], { env: this.env, encoding: "utf8", timeout: 10_000 });
  }
  /** Start a terminal running a shell command (its exit status is printed as EXIT=<n>). */
  open(name, command, { cols = 100, rows = 30 } = {}) {
    const sh = `${command}; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?icanon'; sleep 600`;
    const verb = this.started ? "new-window" : "new-session";
    const size = this.started ? [] : ["-x", String(cols), "-y", String(rows)];
    this.tmux(verb, "-d", ...(this.started ? ["-t", "main"] : ["-s", "main"]), "-n", name, ...size, "sh", "-c", sh);
    this.started = true;
  }
  keys(name, ...keys) {
    this.tmux("send-keys", "-t", `main:${name}`, ...keys);
  }
  /** Literal text (no key names). */
  type(name, text) {
    this.tmux("send-keys", "-t", `main:${name}`, "-l", text);
  }
  screen(name) {
    return this.tmux("capture-pane", "-p", "-J", "-S", "-500", "-t", `main:${name}`);
  }
  async waitFor(name, pattern, ms = 15_000) {
    const until = Date.now() + ms;
    let text = "";
    while (Date.now() < until) {
      text = this.screen(name);
      if (typeof pattern === "string" ? text.includes(pattern) : pattern.test(text)) return text;
      await sleep(50);
    }
    throw new Error(`timed out waiting for ${pattern} in window ${name}; screen:\n${text}`);
  }
  kill() {
    try {
      this.tmux("kill-server");
    } catch {
      /* not running */
    }
  }
}
