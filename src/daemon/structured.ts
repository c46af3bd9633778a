// The structured protocol's adapter (subprotocol "pythond.json.1", docs/PROTOCOL.md; the wire
// itself is src/wire/structured.ts): each request is parsed into an op's params, the op runs,
// and its result is the reply. Requests on one connection run concurrently, matched by id.
import type { WebSocket } from "ws";
import type { DaemonContext, ConnInfo } from "./context.js";
import { DaemonError } from "./errors.js";
import { SessionDeadError, type CellResult } from "../session/session.js";
import type { SessionHandle } from "../session/handle.js";
import { LinkRemoteError } from "../link/link.js";
import { noteBytes } from "./idle-gc.js";
import { throttle } from "./backpressure.js";
import { serveRequest } from "./request.js";
import { checkSize, checkResume } from "./screen-viewers.js";
import { WireError, parseRequest, parseAttachControl, encodeResult, encodeError, encodeEvent, encodeOutput, SCREEN_STREAM, type Request } from "../wire/structured.js";
import { MAX_WAIT_S, type Sink } from "./ops/op.js";
import { hello } from "./ops/hello.js";
import { ls } from "./ops/ls.js";
import { newSession } from "./ops/new.js";
import { run } from "./ops/run.js";
import { fire } from "./ops/fire.js";
import { fork } from "./ops/fork.js";
import { poll } from "./ops/poll.js";
import { output } from "./ops/output.js";
import { cancel } from "./ops/cancel.js";
import { cells } from "./ops/cells.js";
import { status } from "./ops/status.js";
import { vars } from "./ops/vars.js";
import { complete } from "./ops/complete.js";
import { int } from "./ops/int.js";
import { kill } from "./ops/kill.js";
import { stop } from "./ops/stop.js";
import { restart } from "./ops/restart.js";
import { locate } from "./ops/locate.js";
import { attach, type Terminal, type TerminalInput } from "./ops/attach.js";
import { connect } from "./ops/connect.js";
import { disconnect } from "./ops/disconnect.js";
import { isValidName } from "./names.js";

/** A client that lets this much output pile up unread is dropped; its cells keep running. */
const MAX_BUFFERED = 256 * 1024 * 1024;

/** What a verb's table line gets: the request, and the sink (with the terminal, for attach). */
interface Call {
  req: Request;
  ctx: DaemonContext;
  conn: ConnInfo;
  sink: Sink & { terminal: Terminal };
}

function str(req: Request, key: string, required = true): string {
  const v = req[key];
  if (v === undefined && !required) return "";
  if (typeof v !== "string") throw new DaemonError("bad_request", `"${key}" must be a string`);
  return v;
}

/** The table's session of the request's "session" (a string; `loose`: whatever it wrote,
 * for fork, int and poll --wait), before any "remote" is applied. */
function tableSession(c: Call, loose = false): SessionHandle {
  return c.ctx.table.get(loose ? String(c.req.session) : str(c.req, "session"));
}

/** The session a request names ("session" must be a string). */
function session(c: Call): SessionHandle {
  return through(c, tableSession(c));
}

/** The session a request names, looked up by whatever it wrote (fork, int, poll --wait). */
function sessionNamed(c: Call): SessionHandle {
  return through(c, tableSession(c, true));
}

/** The "remote" field, if given: the name of a session on the proxy's remote daemon (the explicit form). */
function remoteName(c: Call): string | undefined {
  const r = c.req.remote;
  if (r === undefined) return undefined;
  if (typeof r !== "string" || !isValidName(r)) throw new DaemonError("bad_request", '"remote" must be a session name');
  return r;
}

/** s, or with "remote" the session of that name on s's remote daemon (s must be a proxy). */
function through(c: Call, s: SessionHandle): SessionHandle {
  const r = remoteName(c);
  // A run's "words" (below) sent on with its int or cancel: the same remote session.
  if (r === undefined && s.remote && explicitWords(c.req.words)) return s.remote.session(c.req.words[0]);
  if (r === undefined) return s;
  if (!s.remote) throw new DaemonError("bad_request", `'${s.name}' is not a proxy: only a proxy names a remote session (pysh <verb> <proxy> <remote-session> ...)`);
  return s.remote.session(r);
}

/** Several code arguments as typed ("words"): through a proxy, the first may name a remote session. */
function severalWords(words: unknown): words is string[] {
  return Array.isArray(words) && words.length >= 2 && words.every((w) => typeof w === "string");
}

function explicitWords(words: unknown): words is string[] {
  return severalWords(words) && isValidName(words[0]);
}

/**
 * The session and code of run/fire/fork. "words" are the code arguments as typed: through a
 * proxy with two or more, the first names the remote session (0.4's `run <proxy> <remote> code`).
 */
function codeTarget(c: Call, verb: string, named = false): { s: SessionHandle; text: string } {
  const words = c.req.words;
  const s = tableSession(c, named);
  if (s.remote && c.req.remote === undefined && severalWords(words)) {
    if (!explicitWords(words)) throw new DaemonError("bad_request", `'${words[0]}' is not a session name: through a proxy, the first of several code arguments names the remote session`);
    const text = words.slice(1).join("\n");
    if (!text.trim()) throw new DaemonError("bad_request", `${verb} requires code`);
    return { s: s.remote.session(words[0]), text };
  }
  return { s: through(c, s), text: code(c.req, verb) };
}

function code(req: Request, verb: string): string {
  const v = str(req, "code");
  if (!v.trim()) throw new DaemonError("bad_request", `${verb} requires code`);
  return v;
}

function seconds(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > MAX_WAIT_S) {
    throw new DaemonError("bad_request", `"${what}" must be a number of seconds from 0 to ${MAX_WAIT_S}`);
  }
  return v;
}

function ms(v: unknown): number | undefined {
  const s = seconds(v, "grace");
  return s === undefined ? undefined : s * 1000;
}

export function cellReply(r: CellResult): Record<string, unknown> {
  return {
    cell_id: r.cell_id,
    ok: r.ok,
    value: r.value,
    error: r.error,
    duration: r.duration,
    dropped: r.dropped,
    ...((r as { images?: string[] }).images ? { images: (r as { images?: string[] }).images } : {}),
    ...((r as { rich?: unknown[] }).rich ? { rich: (r as { rich?: unknown[] }).rich } : {}),
  };
}

/** `new`'s "via" (a command prefix as argv) and "idle_ttl" (seconds), checked. */
function viaFields(req: Request): { via?: string[]; idleTtl?: number } {
  const { via, idle_ttl: ttl } = req;
  if (via === undefined || via === null) {
    if (ttl !== undefined && ttl !== null) throw new DaemonError("bad_request", '"idle_ttl" applies only with "via"');
    return {};
  }
  const ok = Array.isArray(via) && via.length > 0 && via.length <= 64 && via.every((w) => typeof w === "string" && w.length > 0 && w.length <= 4096 && !w.includes("\0"));
  if (!ok) throw new DaemonError("bad_request", '"via" must be a command prefix: 1 to 64 non-empty strings (argv)');
  if (ttl !== undefined && ttl !== null && (typeof ttl !== "number" || !Number.isFinite(ttl) || ttl <= 0 || ttl > 3650 * 86400)) {
    throw new DaemonError("bad_request", '"idle_ttl" must be a number of seconds above 0');
  }
  return { via: via as string[], idleTtl: (ttl as number | undefined) ?? undefined };
}

/** Every verb: its request fields parsed into the op's params (in the order they are checked), the op, the reply. */
const verbs: Record<string, (c: Call) => Promise<unknown>> = {
  hello: (c) => hello(c.ctx),
  ls: (c) => ls(c.ctx, { status: true, remote: c.req.remote === undefined ? undefined : str(c.req, "remote") }),
  new: (c) => {
    const intGraceMs = ms(c.req.int_grace);
    const name = str(c.req, "session");
    const env = c.req.env as Record<string, string> | undefined;
    if (env !== undefined && (typeof env !== "object" || Object.values(env).some((v) => typeof v !== "string"))) {
      throw new DaemonError("bad_request", '"env" must map names to strings');
    }
    const replace = c.req.replace === true;
    const python = str(c.req, "python", false) || undefined;
    const cwd = str(c.req, "cwd", false) || undefined;
    const { via, idleTtl } = viaFields(c.req);
    return newSession(c.ctx, { name, replace, python, cwd, env, intGraceMs: intGraceMs ?? null, via, idleTtl, remote: remoteName(c) });
  },
  run: async (c) => {
    const { s, text } = codeTarget(c, "run");
    const cell = str(c.req, "cell", false);
    if (cell && !/^[0-9a-f]{12}$/.test(cell)) throw new DaemonError("bad_request", '"cell" must be 12 lowercase hex digits');
    const stdin = c.req.stdin === undefined ? undefined : str(c.req, "stdin", false);
    return cellReply(await run(c.ctx, { s, code: text, cell: cell || undefined, stdin }, c.sink));
  },
  fire: (c) => {
    const { s, text } = codeTarget(c, "fire");
    return fire(c.ctx, { s, code: text });
  },
  fork: (c) => {
    if (typeof c.req.code !== "string") throw new DaemonError("bad_request", '"code" must be a string');
    const { s, text } = codeTarget(c, "fork", true);
    return fork(c.ctx, { s, code: text });
  },
  poll: (c) => {
    const waitS = seconds(c.req.wait, "wait");
    if (waitS === undefined) {
      const cell = str(c.req, "cell", false) || undefined;
      return poll(c.ctx, { s: session(c), cell, lost: true }, c.sink);
    }
    const s = sessionNamed(c);
    const cell = typeof c.req.cell === "string" && c.req.cell ? c.req.cell : undefined;
    return poll(c.ctx, { s, cell, waitS, lost: true }, c.sink);
  },
  output: (c) => {
    const since = c.req.since ?? 0;
    if (!Number.isSafeInteger(since) || (since as number) < 0) throw new DaemonError("bad_request", '"since" must be an integer >= 0');
    return output(c.ctx, { s: session(c), since: since as number });
  },
  cancel: (c) => {
    const cell = str(c.req, "cell");
    return cancel(c.ctx, { s: session(c), cell });
  },
  cells: (c) => cells(c.ctx, { s: session(c) }),
  status: (c) => status(c.ctx, { s: session(c) }),
  locate: (c) => locate(c.ctx, { s: session(c) }),
  vars: (c) => vars(c.ctx, { s: session(c), reprs: c.req.reprs === true }),
  complete: (c) => {
    const s = session(c);
    return complete(c.ctx, { s, text: str(c.req, "text", false) });
  },
  int: (c) => {
    const s = sessionNamed(c);
    return int(c.ctx, { s, graceMs: ms(c.req.grace), wait: c.req.wait !== false });
  },
  kill: (c) => kill(c.ctx, { name: str(c.req, "session"), remote: remoteName(c) }),
  connect: (c) => {
    const alias = str(c.req, "session");
    if (!isValidName(alias)) throw new DaemonError("invalid_name", "invalid session name");
    const token = str(c.req, "token");
    if (!/^[\x21-\x7e]{1,1024}$/.test(token)) throw new DaemonError("bad_request", '"token" must be printable ASCII without spaces, at most 1024 characters');
    return connect(c.ctx, { alias, address: str(c.req, "address"), tls: c.req.tls === true, token, replace: c.req.replace === true });
  },
  disconnect: (c) => disconnect(c.ctx, { alias: str(c.req, "session") }),
  stop: (c) => stop(c.ctx, { keepSessions: c.req.keep_sessions === true }, c.sink),
  restart: (c) => restart(c.ctx, { name: String(c.req.session ?? ""), replay: c.req.replay === true, remote: remoteName(c) }),
  attach: (c) => {
    const s = session(c);
    const size = checkSize(c.req.rows, c.req.cols);
    const resume = checkResume(c.req.from, c.req.screen);
    return attach(c.ctx, { s, size, resume, readOnly: c.req.read_only === true, peer: { conn_id: c.conn.id, peer: c.conn.peer } }, c.sink);
  },
};

function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof DaemonError) return { code: e.code, message: e.message };
  if (e instanceof WireError) return { code: e.code, message: e.message };
  const err = e as Error;
  if (e instanceof SessionDeadError) return { code: "session_dead", message: err.message };
  // The agent refuses a request it cannot take (a cell id in use, an unknown op) with ValueError.
  if (e instanceof LinkRemoteError && e.type === "ValueError") return { code: "bad_request", message: err.message };
  // Completion or vars ran user code that did not return in time (agent/pythond_agent/introspect.py).
  if (e instanceof LinkRemoteError && /^Introspection(Timeout|Busy)$/.test(e.type)) return { code: "timeout", message: err.message };
  return { code: "internal", message: err?.message ?? String(e) };
}

/** The sink of one request on this connection: output and events as frames of its id. */
function sinkOf(ws: WebSocket, conn: ConnInfo, req: Request, send: (text: string) => void): Sink & { terminal: Terminal } {
  let slow = false; // a flow-control watch runs for this request's output (backpressure.ts)
  const out = (stream: number, chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.terminate();
      return;
    }
    noteBytes(chunk.length);
    ws.send(encodeOutput(req.id, stream, chunk), { binary: true });
  };
  return {
    output(stream, chunk, from) {
      out(stream, chunk);
      if (from && !slow) slow = throttle(ws, from, () => (slow = false));
    },
    event(name, fields) {
      send(encodeEvent(req.id, name, fields));
    },
    afterReply(fn) {
      conn.afterReply = fn;
    },
    terminal: {
      write: (data) => out(SCREEN_STREAM, data),
      backlog: () => ws.bufferedAmount,
      drop: () => ws.terminate(),
      onClose(f) {
        ws.on("close", f);
        return () => ws.off("close", f);
      },
      claimInput(f: (input: TerminalInput) => void) {
        if (conn.onMessage) return undefined;
        conn.onMessage = (data, isBinary) => {
          if (isBinary) {
            f({ kind: "keys", data });
            return true;
          }
          const msg = parseAttachControl(data.toString("utf8"));
          if (!msg || (msg.id !== undefined && msg.id !== req.id)) return false; // an ordinary request
          f(msg.op === "resize" ? { kind: "resize", rows: msg.rows, cols: msg.cols } : { kind: "detach" });
          return true;
        };
        return () => {
          conn.onMessage = undefined;
        };
      },
    },
  };
}

export function serveStructured(ws: WebSocket, ctx: DaemonContext, conn: ConnInfo): void {
  const send = (text: string) => {
    if (ws.readyState !== ws.OPEN) return;
    noteBytes(text.length);
    ws.send(text);
  };
  ws.on("message", async (data, isBinary) => {
    if (conn.onMessage?.(data as Buffer, isBinary)) return;
    if (isBinary) {
      send(encodeError(null, { code: "bad_request", message: "binary frames are only for attach input" }));
      return;
    }
    let req: Request;
    try {
      req = parseRequest((data as Buffer).toString("utf8"));
    } catch (e) {
      send(encodeError(null, errorOf(e)));
      return;
    }
    // Own keys only: "constructor" or "__proto__" is an unknown op, not an inherited function.
    const op = Object.hasOwn(verbs, req.op) ? verbs[req.op] : undefined;
    const call: Call = { req, ctx, conn, sink: sinkOf(ws, conn, req, send) };
    await serveRequest(
      ctx,
      conn,
      { cmd: req.op, session: typeof req.session === "string" ? req.session : undefined },
      async () => {
        try {
          if (!op) throw new DaemonError("unknown_op", `unknown op: ${req.op}`);
          return { reply: encodeResult(req.id, await op(call)), ok: true };
        } catch (e) {
          return { reply: encodeError(req.id, errorOf(e)), ok: false };
        }
      },
      send,
    );
  });
}
