// An isolated pythond daemon for the async tests: its own HOME, XDG_RUNTIME_DIR (0700) and
// socket, no autostart; stopped (with every session it started) in after().
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawn, spawnSync } from "node:child_process";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const bin = (name) => join(root, "bin", name);

export async function startDaemon(t, extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), "pythond-async-"));
  const home = join(dir, "home");
  const xdg = join(dir, "run");
  mkdirSync(home, { mode: 0o700 });
  mkdirSync(xdg, { mode: 0o700 });
  const sock = join(xdg, "pythond.sock");
  const env = { ...process.env, HOME: home, XDG_RUNTIME_DIR: xdg, PYTHOND_SOCK: sock, PYTHOND_NO_AUTOSTART: "1", ...extraEnv };
  delete env.PYTHOND_TOKEN;
  const child = spawn(process.execPath, [bin("pythond"), "daemon"], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const until = Date.now() + 15_000;
  while (!existsSync(sock)) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`daemon did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const d = {
    dir, home, sock, env, child,
    /** Run a CLI (pysh by default) to completion: {code, stdout, stderr}. */
    run(args, opts = {}) {
      return new Promise((resolve) => {
        const p = spawn(process.execPath, [bin(opts.bin ?? "pysh"), ...args], { env: { ...env, ...(opts.env ?? {}) }, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "", stderr = "";
        p.stdout.on("data", (x) => (stdout += x));
        p.stderr.on("data", (x) => (stderr += x));
        const timer = setTimeout(() => p.kill("SIGKILL"), opts.deadlineMs ?? 60_000);
        p.on("close", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
        p.stdin.end(opts.input ?? "");
      });
    },
    pysh(...args) {
      return d.run(args);
    },
    async stop() {
      if (child.exitCode === null) {
        spawnSync(process.execPath, [bin("pyctl"), "stop"], { env, timeout: 10_000 });
        const t0 = Date.now();
        while (child.exitCode === null && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 25));
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.after(() => d.stop());
  return d;
}
