// The process side of a local session's agent: starting it (bootstrap over a pipe, until its
// hello), telling whether its pid still lives, ending its process group, and collecting the
// last words its keeper holds after the interpreter died. session.ts is the link side.
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { Link } from "../link/link.js";
import { startAgent } from "../bootstrap/spawn.js";
import { rememberCode } from "../bootstrap/code-cache.js";
import { sessionStateDir } from "../util/paths.js";
import type { Hello } from "./agent-link.js";
import { linkOver, type AgentReach, type AgentStream } from "./reach.js";
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
export function lastWords(reach: AgentReach, timeoutMs: number, secret: string | undefined): Promise<LastWords | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    let stream: AgentStream | undefined;
    const done = (v: LastWords | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      link?.shutdown(null);
      stream?.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    let link: Link | undefined;
    reach.open(timeoutMs).then((s) => {
      stream = s;
      if (settled) return s.close();
      link = linkOver(s, {
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
    }, () => done(undefined));
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
