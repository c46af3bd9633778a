// Where pythond keeps its files (rules of pythond 0.4, docs/USER-GUIDE.md "Files").
import { lstatSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";

const uid = () => process.getuid?.() ?? 0;

function privateXdgDir(): string | undefined {
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (!xdg) return undefined;
  try {
    const st = lstatSync(xdg);
    if (st.isDirectory() && st.uid === uid() && (st.mode & 0o777) === 0o700) return xdg;
  } catch {
    /* missing or unreadable: fall back */
  }
  return undefined;
}

function tmpRuntime(): string {
  return join(process.env.TMPDIR || tmpdir() || "/tmp", `pythond-${uid()}`);
}

export function socketPath(): string {
  if (process.env.PYTHOND_SOCK) return process.env.PYTHOND_SOCK;
  const xdg = privateXdgDir();
  return xdg ? join(xdg, "pythond.sock") : join(tmpRuntime(), "pythond.sock");
}

export function runtimeDir(): string {
  return process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, "pythond") : tmpRuntime();
}

/** Private sockets of the session agents that belong to the daemon on `sock`. */
export function agentDir(sock: string): string {
  return `${sock}.d`;
}

/** An agent's socket file in agentDir: 8 hex digits (session.ts), so every one is this long. */
export function agentSocketName(id: string): string {
  return `${id}.sock`;
}
export const AGENT_SOCKET_SAMPLE = agentSocketName("0".repeat(8));

/** Where a daemon started in the background by a client writes its stdout and stderr. */
export function daemonLogPath(): string {
  return join(runtimeDir(), "daemon.log");
}

export function stateDir(): string {
  return join(process.env.HOME || homedir(), ".pythond");
}

/** The proxies a daemon keeps across restarts (proxy/store.ts): the tokens in it make it 0600. */
export function proxiesPath(): string {
  return join(stateDir(), "proxies.json");
}

export function sessionStateDir(name: string): string {
  return join(stateDir(), "sessions", name);
}

export { dirname };
