// Human attach (docs/PROTOCOL.md "Attach"): clients watch and type into a session's PTY, which
// the agent owns (agent/pythond_agent/repl.py, terminal.py). The daemon fans the agent's "screen" events out
// to every attached client, forwards keystrokes and resizes, and speaks two wire forms: the
// structured "attach" op and pythond 0.4's attach sub-protocol (byte for byte).
import type { WebSocket } from "ws";
import type { DaemonContext, ConnInfo } from "./context.js";
import type { LegacyCommand } from "./legacy.js";
import type { Call } from "./structured.js";
import { DaemonError } from "./errors.js";
import { SCREEN_STREAM, parseAttachControl } from "../wire/structured.js";
import type { Session } from "../session/session.js";

/** Replay at least this much of the screen to a structured attacher. */
export const REPLAY_BYTES = 1024 * 1024;
/** pythond 0.4 replayed the last 64 KiB in one binary frame; legacy attachers get the same. */
const LEGACY_REPLAY_BYTES = 64 * 1024;
const LEGACY_FRAME = 4096;
const STRUCTURED_FRAME = 64 * 1024;
/** Largest keystroke frame forwarded; bigger ones are refused (the agent never sees them). */
export const MAX_INPUT_FRAME = 1024 * 1024;
/** A client with this much screen output unsent is dropped (the session never waits for it). */
const MAX_CLIENT_BACKLOG = 8 * 1024 * 1024;

interface Viewer {
  /** Write screen bytes to the client. */
  write(data: Buffer): void;
  ws: WebSocket;
  /** Live events held until the replay is sent: [data, end offset]. */
  held: [Buffer, number][] | null;
  end: number;
  closed: boolean;
  finish(reason: string): void;
}

/** A viewer that holds live screen events until its replay has been sent. */
function newViewer(ws: WebSocket, write: (data: Buffer) => void, finish: (reason: string) => void): Viewer {
  return { ws, held: [], end: 0, closed: false, write, finish };
}

class Hub {
  readonly viewers = new Set<Viewer>();
  constructor(readonly session: Session) {
    session.onScreen = (data, end) => {
      for (const v of this.viewers) {
        if (v.held) v.held.push([data, end]);
        else deliver(v, data, end);
      }
    };
    session.onDeath(() => {
      for (const v of [...this.viewers]) v.finish("session killed");
    });
  }
}

function deliver(v: Viewer, data: Buffer, end: number): void {
  if (v.closed || end <= v.end) return;
  const fresh = end - v.end < data.length ? data.subarray(data.length - (end - v.end)) : data;
  v.end = end;
  if (v.ws.bufferedAmount > MAX_CLIENT_BACKLOG) {
    v.ws.terminate(); // too slow: dropped, its close handler detaches it
    return;
  }
  v.write(fresh);
}

const hubs = new WeakMap<Session, Hub>();
function hubOf(s: Session): Hub {
  let h = hubs.get(s);
  if (!h) hubs.set(s, (h = new Hub(s)));
  return h;
}

function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

export interface Size {
  rows?: number;
  cols?: number;
}

function checkSize(rows: unknown, cols: unknown): Size {
  if (rows === undefined && cols === undefined) return {};
  const ok = (n: unknown) => Number.isInteger(n) && (n as number) > 0 && (n as number) < 10000;
  if (!ok(rows) || !ok(cols)) throw new DaemonError("bad_request", "invalid size: rows and cols must be integers from 1 to 9999");
  return { rows: rows as number, cols: cols as number };
}

/**
 * Register a viewer, ask the agent for the replay (this also applies the size), and return
 * a function that sends the replay and then the held live output. The viewer is in the hub
 * before the agent answers, so no screen bytes fall between replay and live output.
 */
/** Where a re-joining viewer left off: a byte offset of the screen log it names. */
export interface Resume {
  from: number;
  screen: string;
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

async function join(
  s: Session,
  v: Viewer,
  size: Size,
  replayBytes: number,
  resume?: Resume,
): Promise<{ info: ReplayInfo; start: (send: (replay: Buffer) => void) => void }> {
  const hub = hubOf(s);
  hub.viewers.add(v);
  let got;
  try {
    got = await s.screenAttach({ ...size, max: replayBytes, ...(resume ?? {}) });
  } catch (e) {
    hub.viewers.delete(v);
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

function checkResume(from: unknown, screen: unknown): Resume | undefined {
  if (from === undefined && screen === undefined) return undefined;
  if (!Number.isSafeInteger(from) || (from as number) < 0) throw new DaemonError("bad_request", '"from" must be a non-negative integer (a screen offset)');
  if (typeof screen !== "string" || !/^[0-9a-f]{1,64}$/.test(screen)) throw new DaemonError("bad_request", '"screen" must be the screen id of an earlier "attached" event');
  return { from: from as number, screen };
}

function leave(s: Session, v: Viewer): void {
  const hub = hubs.get(s);
  if (!hub?.viewers.delete(v)) return;
  s.screenDetach();
}

/** Forward keystrokes; resolves true when the agent says the client detached (Ctrl-D). */
async function input(s: Session, data: Buffer): Promise<boolean> {
  if (!data.length) return false;
  return s.screenInput(data);
}

function resize(s: Session, size: Size): void {
  s.screenResize(size);
}

/** The structured "attach" op. Resolves (the op's reply) when the client detaches. */
export async function attachOp(call: Call): Promise<unknown> {
  const { req, conn, ctx, ws } = call;
  if (typeof req.session !== "string") throw new DaemonError("bad_request", '"session" must be a string');
  const s = ctx.table.get(req.session);
  const size = checkSize(req.rows, req.cols);
  const resume = checkResume(req.from, req.screen);
  const readOnly = req.read_only === true;
  if (conn.onMessage) throw new DaemonError("bad_request", "this connection is already attached");
  return new Promise((resolve, reject) => {
    let end: (reason: string) => void = () => {};
    const v = newViewer(
      ws,
      (data) => {
        for (const part of chunks(data, STRUCTURED_FRAME)) call.output(SCREEN_STREAM, part);
      },
      (reason) => end(reason),
    );
    end = (reason) => {
      if (v.closed) return;
      v.closed = true;
      conn.onMessage = undefined;
      ws.off("close", onClose);
      leave(s, v);
      ctx.log.write({ event: "detach", conn_id: conn.id, peer: conn.peer, session: s.name, status: reason });
      if (reason === "session killed") reject(new DaemonError("session_dead", `session '${s.name}' ended while attached`));
      else resolve({ detached: true, reason });
    };
    const onClose = () => end("connection closed");
    ws.on("close", onClose);
    let typing = Promise.resolve();
    conn.onMessage = (data, isBinary) => {
      if (isBinary) {
        if (readOnly || v.closed) return true;
        if (data.length > MAX_INPUT_FRAME) {
          call.event("warning", { message: `input frame of ${data.length} bytes refused (limit ${MAX_INPUT_FRAME})` });
          return true;
        }
        const copy = Buffer.from(data);
        typing = typing.then(async () => {
          if (!v.closed && (await input(s, copy).catch(() => false))) end("ctrl-d");
        });
        return true;
      }
      const msg = parseAttachControl(data.toString("utf8"));
      if (!msg) return false; // an ordinary request (or garbage the request path reports)
      if (msg.op === "resize" && (msg.id === undefined || msg.id === req.id)) {
        try {
          if (!readOnly) resize(s, checkSize(msg.rows, msg.cols));
        } catch (e) {
          call.event("warning", { message: (e as Error).message });
        }
        return true;
      }
      if (msg.op === "detach" && (msg.id === undefined || msg.id === req.id)) {
        end("detached");
        return true;
      }
      return false;
    };
    join(s, v, readOnly ? {} : size, REPLAY_BYTES, resume).then(
      ({ info, start }) => {
        if (v.closed) return;
        ctx.log.write({ event: "attach", conn_id: conn.id, peer: conn.peer, session: s.name, status: info.resumed ? "resumed" : "ok" });
        call.event("attached", {
          session: s.name,
          read_only: readOnly,
          offset: info.offset,
          replay_bytes: info.replayBytes,
          screen: info.screen,
          resumed: info.resumed,
        });
        start((replay) => v.write(replay));
      },
      (e) => {
        v.closed = true;
        conn.onMessage = undefined;
        ws.off("close", onClose);
        reject(e);
      },
    );
  });
}

/** pythond 0.4's `attach <n> [rows cols]` (compat §7, §14.15): several attachers allowed. */
export async function legacyAttach(ctx: DaemonContext, c: LegacyCommand, conn: ConnInfo): Promise<string | null> {
  const [name, rowsText, colsText] = c.args;
  const ws = conn.ws;
  const s = ctx.table.find(name);
  if (!s) return `ERR no session '${name}'`;
  if (!ws) return `ERR session '${name}' has no PTY`;
  let size: Size = {};
  if (rowsText !== undefined) {
    const rows = Number(rowsText);
    const cols = Number(colsText);
    try {
      size = checkSize(rows, cols);
    } catch {
      ctx.log.write({ event: "attach", conn_id: conn.id, peer: conn.peer, session: name, status: "resize-failed" });
      return `ERR invalid size: ${rowsText} ${colsText ?? ""}`.trimEnd();
    }
  }
  const v = newViewer(
    ws,
    (data) => {
      if (ws.readyState !== ws.OPEN) return;
      for (const part of chunks(data, LEGACY_FRAME)) ws.send(part, { binary: true });
    },
    (reason) => {
      if (v.closed) return;
      v.closed = true;
      leave(s, v);
      if (ws.readyState === ws.OPEN) ws.close(1000, reason);
    },
  );
  let start: (send: (replay: Buffer) => void) => void;
  try {
    ({ start } = await join(s, v, size, LEGACY_REPLAY_BYTES));
  } catch (e) {
    return `ERR ${(e as Error).message}`;
  }
  ws.on("close", () => {
    if (v.closed) return;
    v.closed = true;
    leave(s, v);
  });
  let typing = Promise.resolve();
  conn.onMessage = (data, isBinary) => {
    if (v.closed) return true;
    if (isBinary) {
      if (data.length > MAX_INPUT_FRAME) return true; // dropped: too large for a keystroke frame
      const copy = Buffer.from(data);
      typing = typing.then(async () => {
        if (!v.closed && (await input(s, copy).catch(() => false))) detach();
      });
      return true;
    }
    const text = data.toString("utf8").trim();
    if (text === "detach" || text === "") detach();
    else {
      const m = /^resize\s+(\d+)\s+(\d+)$/.exec(text);
      if (m) {
        try {
          resize(s, checkSize(Number(m[1]), Number(m[2])));
        } catch {
          /* 0.4 ignores what it cannot apply */
        }
      }
    }
    return true;
  };
  const detach = () => {
    if (v.closed) return;
    v.closed = true;
    leave(s, v);
    ctx.log.write({ event: "detach", conn_id: conn.id, peer: conn.peer, session: name, status: "ok" });
    if (ws.readyState === ws.OPEN) {
      ws.send("OK detached");
      ws.close(1000, "detached");
    }
  };
  conn.afterReply = () => {
    start((replay) => {
      if (ws.readyState === ws.OPEN) ws.send(replay, { binary: true });
    });
  };
  return "OK attached";
}
