// Starting a daemon in the background when none answers: detached, logging to
// <runtime>/daemon.log, and waited for until its socket answers.
import { openSync, closeSync, readFileSync, statSync, renameSync, constants } from "node:fs";
import { join } from "node:path";
import { runtimeDir, daemonLogPath } from "../util/paths.js";
import { ensurePrivateDir } from "../util/private-dir.js";
import { packageRoot } from "../util/package-root.js";
import { ConnectError } from "./errors.js";
import { probeSocket } from "../util/probe-socket.js";
import { daemonMallocEnv } from "../util/malloc-env.js";

const DAEMON_LOG_MAX = 1024 * 1024;

export function autostartAllowed(): boolean {
  return !/^(1|true|yes)$/i.test(process.env.PYTHOND_NO_AUTOSTART ?? "");
}

/** `daemonArgs`: options for `pythond daemon` (pyctl restart passes the TCP listener on). */
export async function startDaemonInBackground(sock: string, timeoutMs = 10_000, daemonArgs: string[] = []): Promise<void> {
  ensurePrivateDir(runtimeDir());
  const logPath = daemonLogPath();
  // Bounded: a daemon writes here only its start, stop and errors (access lines go to
  // access.log alone), but many starts add up; the previous generation is kept as .1.
  try {
    if (statSync(logPath).size > DAEMON_LOG_MAX) renameSync(logPath, `${logPath}.1`);
  } catch {
    /* no log yet */
  }
  // Loaded here, not at the top: node:child_process costs ~5 ms to load and every pysh call
  // would pay it, while only the rare no-daemon path needs it.
  const { spawn } = await import("node:child_process");
  const fd = openSync(logPath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  const child = spawn(process.execPath, [join(packageRoot(), "dist", "pythond.js"), "daemon", ...daemonArgs], {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, ...daemonMallocEnv(process.env), PYTHOND_SOCK: sock },
  });
  closeSync(fd);
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = signal ? `killed by ${signal}` : `exit status ${code}`));
  child.unref();
  const until = Date.now() + timeoutMs;
  let delay = 5;
  while (Date.now() < until) {
    if (await probeSocket(sock, 500)) return;
    if (exited) break;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  let tail = "";
  try {
    tail = readFileSync(logPath, "utf8").trim().split("\n").slice(-3).join(" | ");
  } catch {
    /* no log */
  }
  throw new ConnectError(`could not start a daemon on ${sock}${exited ? ` (${exited})` : ""}${tail ? `: ${tail}` : ""}`);
}
