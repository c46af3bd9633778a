// How the daemon reaches a session's agent: a byte stream to its private socket, whether its
// process may still live, and how it is ended. A local agent is reached through its Unix
// socket on this machine (this file); one on another host through a relay run by a command
// prefix such as `ssh web01` (via-reach.ts). session.ts is written against this interface only.
import { connect } from "node:net";
import { unlinkSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { processAlive, endProcessGroup } from "./process-life.js";
import { keyPathOf, removeKey } from "./agent-key.js";
import { Link, type LinkOptions } from "../link/link.js";

/** A byte stream to an agent's socket. */
export interface AgentStream {
  input: Readable;
  output: Writable;
  /** Bytes already read from input (what followed a READY line). */
  head?: Buffer;
  /** Set when input's bytes come through a callback instead of "data" events: each chunk is
   * valid only during the call (the reader copies what it keeps). */
  deliver?(receive: (chunk: Buffer) => void): void;
  /** Let go of the stream (and of the process behind it, if any). */
  close(): void;
}

export interface AgentReach {
  /** For ls: "local", or e.g. "ssh web01". */
  readonly where: string;
  /** True for an agent behind a transport: its drops are normal, and it is regained with backoff. */
  readonly remote: boolean;
  /** What names the agent's socket in messages. */
  readonly socket: string;
  open(timeoutMs: number): Promise<AgentStream>;
  /** False once the agent is known to be gone (then a dropped link means its death). */
  mayLive(pid: number): boolean;
  /** Waits before each regain attempt after a drop: [] ends the attempts. */
  regainDelays(): Iterable<number>;
  /** After the kill op (`heard`: the agent took it, closing its link): make sure its
   * processes are gone, and forget its files. */
  end(pid: number, heard: boolean): Promise<void>;
}

/** A link over an agent stream, fed what the stream already read and, for a stream that
 * delivers through a callback, each chunk as it comes. */
export function linkOver(stream: AgentStream, opts: LinkOptions): Link {
  const link = new Link(stream.input, stream.output, { ...opts, transientInput: stream.deliver !== undefined });
  // Fed once the caller holds the link (its handlers name it); a delivered chunk comes from
  // I/O, so never before this.
  queueMicrotask(() => {
    if (stream.head?.length) link.receive(stream.head);
    stream.deliver?.((chunk) => link.receive(chunk));
  });
  return link;
}

/** What every local agent socket is read into (net's onread): the link copies what it keeps,
 * so one buffer serves all of them, and a burst of output allocates no 64 KiB buffer per read
 * (whose memory glibc could not give back after a large cell: issue 9, item 14). */
const READ_BUFFER = Buffer.allocUnsafeSlow(256 * 1024);

export function unixStream(path: string, timeoutMs: number): Promise<AgentStream> {
  let receive: ((chunk: Buffer) => void) | undefined;
  return new Promise((resolve, reject) => {
    const sock = connect({
      path,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array) => {
          receive?.((buf as Buffer).subarray(0, n));
          return true;
        },
      },
    });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      resolve({ input: sock, output: sock, close: () => sock.destroy(), deliver: (f) => (receive = f) });
    });
    sock.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** An agent on this machine, at its socket in the daemon's 0700 agent dir. */
export function localReach(socket: string): AgentReach {
  return {
    where: "local",
    remote: false,
    socket,
    open: (timeoutMs) => unixStream(socket, timeoutMs),
    mayLive: processAlive,
    // A live local agent answers at once: a few quick tries (more would fight another peer).
    regainDelays: () => [0, 100, 200],
    async end(pid) {
      await endProcessGroup(pid);
      try {
        unlinkSync(socket);
      } catch {
        /* already gone */
      }
      removeKey(keyPathOf(socket));
    },
  };
}
