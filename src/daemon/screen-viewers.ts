// The daemon's half of attach (docs/PROTOCOL.md "Attach"): the agent owns the PTY
// (agent/pythond_agent/repl.py, terminal.py); each attached client is a viewer that follows
// the session's screen bytes, first a replay, then live, without a byte lost between the two.
// Both wire forms use it: the structured "attach" op (ops/attach.ts) and 0.4's (legacy-attach.ts).
import { DaemonError } from "./errors.js";
import type { SessionHandle } from "../session/handle.js";
import type { ScreenSize } from "../session/session.js";

/** A client with this much screen output unsent is dropped (the session never waits for it). */
const MAX_CLIENT_BACKLOG = 8 * 1024 * 1024;
/** Largest keystroke frame forwarded; bigger ones are refused (the agent never sees them). */
export const MAX_INPUT_FRAME = 1024 * 1024;

export type Size = ScreenSize;

export interface Viewer {
  /** Write screen bytes to the client. */
  write(data: Buffer): void;
  /** Bytes sent to the client but not yet taken by it. */
  backlog(): number;
  /** Cut a client that is too slow (its connection's close detaches it). */
  drop(): void;
  /** Live events held until the replay is sent: [data, end offset]. */
  held: [Buffer, number][] | null;
  end: number;
  closed: boolean;
  finish(reason: string): void;
  /** Set while joined: what stops following the session. */
  unfollow?: () => void;
}

/** A viewer that holds live screen events until its replay has been sent. */
export function newViewer(port: Pick<Viewer, "write" | "backlog" | "drop">, finish: (reason: string) => void): Viewer {
  return { ...port, held: [], end: 0, closed: false, finish };
}

function deliver(v: Viewer, data: Buffer, end: number): void {
  if (v.closed || end <= v.end) return;
  const fresh = end - v.end < data.length ? data.subarray(data.length - (end - v.end)) : data;
  v.end = end;
  if (v.backlog() > MAX_CLIENT_BACKLOG) {
    v.drop(); // too slow: dropped, its close handler detaches it
    return;
  }
  v.write(fresh);
}

export function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

export function checkSize(rows: unknown, cols: unknown): Size {
  if (rows === undefined && cols === undefined) return {};
  const ok = (n: unknown) => Number.isInteger(n) && (n as number) > 0 && (n as number) < 10000;
  if (!ok(rows) || !ok(cols)) throw new DaemonError("bad_request", "invalid size: rows and cols must be integers from 1 to 9999");
  return { rows: rows as number, cols: cols as number };
}

/** Where a re-joining viewer left off: a byte offset of the screen log it names. */
export interface Resume {
  from: number;
  screen: string;
}

export function checkResume(from: unknown, screen: unknown): Resume | undefined {
  if (from === undefined && screen === undefined) return undefined;
  if (!Number.isSafeInteger(from) || (from as number) < 0) throw new DaemonError("bad_request", '"from" must be a non-negative integer (a screen offset)');
  if (typeof screen !== "string" || !/^[0-9a-f]{1,64}$/.test(screen)) throw new DaemonError("bad_request", '"screen" must be the screen id of an earlier "attached" event');
  return { from: from as number, screen };
}

/** What a viewer is told about its replay, so it can resume from where it stops later. */
export interface ReplayInfo {
  /** Screen offset at the end of the replay; live bytes continue from here. */
  offset: number;
  /** Bytes of replay sent before the live output. */
  replayBytes: number;
  /** Names the screen log (a new one after a session restart). */
  screen: string;
  /** The replay is exactly the bytes after Resume.from (else a fresh screen). */
  resumed: boolean;
}

/**
 * Register a viewer, ask the agent for the replay (this also applies the size), and return
 * a function that sends the replay and then the held live output. The viewer follows the
 * session before the agent answers, so no screen bytes fall between replay and live output.
 */
export async function join(
  s: SessionHandle,
  v: Viewer,
  size: Size,
  replayBytes: number,
  resume?: Resume,
): Promise<{ info: ReplayInfo; start: (send: (replay: Buffer) => void) => void }> {
  const unScreen = s.onScreen((data, end) => {
    if (v.held) v.held.push([data, end]);
    else deliver(v, data, end);
  });
  const unDeath = s.onDeath(() => v.finish("session killed"));
  v.unfollow = () => {
    unScreen();
    unDeath();
  };
  let got;
  try {
    got = await s.screenAttach({ ...size, max: replayBytes, ...(resume ?? {}) });
  } catch (e) {
    v.unfollow();
    v.unfollow = undefined;
    throw e;
  }
  const { replay, offset } = got;
  const info = { offset, replayBytes: replay.length, screen: got.screen, resumed: got.resumed };
  const start = (send: (replay: Buffer) => void) => {
    v.end = offset;
    send(replay);
    const held = v.held ?? [];
    v.held = null;
    for (const [d, e] of held) deliver(v, d, e);
  };
  return { info, start };
}

/** The viewer stops following the session (the agent is told there is one viewer fewer). */
export function leave(s: SessionHandle, v: Viewer): void {
  if (!v.unfollow) return;
  v.unfollow();
  v.unfollow = undefined;
  s.screenDetach();
}
