// The process side of a local session's agent: starting it (bootstrap over a pipe, until its
// hello), telling whether its pid still lives, ending its process group, and collecting the
// last words its keeper holds after the interpreter died. session.ts is the link side.
import { connect } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { Link } from "../link/link.js";
import { startAgent } from "../bootstrap/spawn.js";
import { rememberCode } from "../bootstrap/code-cache.js";
import { sessionStateDir } from "../util/paths.js";
import type { Hello } from "./agent-link.js";
import { keyPathOf, writeKey, removeKey, proof, type SessionSettings } from "./agent-key.js";

export const STDOUT = 1;
export const STDERR = 2;

export interface SpawnSessionOptions {
  name: string;
  python: string;
  agentDir: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  maxOutput: number;
  timeoutMs?: number;
  /** What `new` was given, kept in the agent's key file for restart after re-adoption. */
  settings?: SessionSettings;
}

/** Alive and not a zombie (a zombie's pid still answers kill 0). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !/^\S+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return true; // no /proc (macOS): kill 0 is all we have
  }
}

/** What a dead agent's keeper hands over (agent/pythond_agent/keeper.py). */
export interface LastWords {
  cell: string | null;
  reason: string;
  /** Each chunk starts at `offset` in its stream (what output frames' "o" count). */
  chunks: { stream: number; offset: number; data: Buffer }[];
}

/**
 * The last words of an agent whose interpreter has died: its keeper answers on the agent's
 * socket with what the capture pipes still held and the exit status. undefined if nobody
 * answers so (an agent from an older pythond, a session ended on purpose, a live agent).
 */
export function lastWords(path: string, timeoutMs: number, secret: string | undefined): Promise<LastWords | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: LastWords | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      link?.shutdown(null);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    const sock = connect(path);
    let link: Link | undefined;
    sock.once("error", () => done(undefined));
    sock.once("connect", () => {
      link = new Link(sock, sock, {
        onEvent: (f) => {
          const h = f.header;
          if (h.k === "hello" && h.last === true && typeof h.nonce === "string") {
            // The keeper hands the last words only to the holder of the session's secret.
            if (!secret) return done(undefined);
            link!.request("auth", { mac: proof(secret, h.nonce) }, [], { timeoutMs }).catch(() => done(undefined));
            return;
          }
          if (h.k !== "last") return done(undefined);
          const streams = Array.isArray(h.s) ? (h.s as unknown[]) : [];
          const offsets = Array.isArray(h.o) ? (h.o as unknown[]) : [];
          const chunks = f.blobs.map((data, i) => ({
            stream: Number(streams[i]) === STDERR ? STDERR : STDOUT,
            offset: Number.isSafeInteger(offsets[i]) ? (offsets[i] as number) : -1,
            data: Buffer.from(data),
          }));
          done({ cell: typeof h.cell === "string" ? h.cell : null, reason: typeof h.reason === "string" ? h.reason : "", chunks });
        },
        onClose: () => done(undefined),
      });
    });
  });
}

/** Start a session agent listening on socketFile (its secret in the 0600 key file); resolves at its hello. */
export async function startSessionAgent(opts: SpawnSessionOptions, socketFile: string, secret: string, settings: SessionSettings): Promise<{ child: ChildProcess; hello: Hello }> {
  const keyFile = keyPathOf(socketFile);
  writeKey(keyFile, { secret, settings });
  let started;
  try {
    started = await startAgent(
      [opts.python],
      { mode: "session", name: opts.name, socket: socketFile, secret, max_output: opts.maxOutput, cwd: opts.cwd, images_dir: join(sessionStateDir(opts.name), "images") },
      { env: opts.env, cwd: opts.cwd, detached: true, endInput: true, timeoutMs: opts.timeoutMs ?? 15_000 },
    );
  } catch (e) {
    removeKey(keyFile);
    throw e;
  }
  const child = started.child;
  const hello = await new Promise<Hello>((resolve, reject) => {
    const boot = new Link(started.stdout, undefined, {
      onEvent: (f) => {
        if (f.header.k === "code") return rememberCode(started.codeKey, f);
        if (f.header.k === "hello") resolve(f.header as unknown as Hello);
        else reject(new Error(`agent failed: ${String(f.header.type)}: ${String(f.header.message)}`));
        boot.shutdown(null); // settles first: its onClose would reject
      },
      onClose: (err) => reject(new Error(`agent closed before its hello: ${err?.message ?? "EOF"}; ${started.stderr.text()}`)),
    });
    boot.receive(started.rest);
  });
  return { child, hello };
}

/** After the agent was asked to exit: wait for it, then TERM and KILL its process group. */
export async function endProcessGroup(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  const waitGone = async (ms: number) => {
    const until = Date.now() + ms;
    // An agent told to exit is usually gone (reaped) within a few ms: poll fast first, then
    // back off, so `new --replace` does not wait a fixed 20 ms tick for the old agent.
    for (let step = 2; alive() && Date.now() < until; step = Math.min(step * 2, 20)) await new Promise((r) => setTimeout(r, step));
    return !alive();
  };
  if (!(await waitGone(300))) {
    signalGroup("SIGTERM");
    if (!(await waitGone(3000))) {
      signalGroup("SIGKILL");
      await waitGone(1000);
    }
  } else signalGroup("SIGKILL"); // children left in its group
}
