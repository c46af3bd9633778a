// A real terminal for the attach tests: one tmux server of our own (-L, no config), with one
// window per terminal, driven with send-keys and read with capture-pane.
import { execFileSync } from "node:child_process";

let serial = 0;

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
      await new Promise((r) => setTimeout(r, 50));
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
