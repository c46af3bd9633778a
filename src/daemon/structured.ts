// pythond's structured protocol (subprotocol "pythond.json.1", docs/PROTOCOL.md):
// text frames are JSON requests {"id", "op", ...} and replies {"id", "ok", "result"|"error"};
// cell output streams as binary frames: u32be request id, u8 stream (1 stdout, 2 stderr), bytes.
// Requests on one connection run concurrently and are matched by id.
import type { WebSocket } from "ws";
import type { DaemonContext, ConnInfo } from "./context.js";
import { DaemonError } from "./errors.js";
import { isValidName } from "./names.js";
import { pollCell, backgroundOutput } from "./cell-ops.js";
import { SessionDeadError, type Session, type CellResult } from "../session/session.js";
import { throttle } from "./backpressure.js";
import { LinkRemoteError } from "../link/link.js";
import { noteBytes } from "./idle-gc.js";
import { STRUCTURED_PROTOCOL, WireError, parseRequest, encodeResult, encodeError, encodeEvent, encodeOutput, type Request } from "../wire/structured.js";

const throttled = new WeakMap<Call, Set<WebSocket>>();

export { STRUCTURED_PROTOCOL };
/** A client that lets this much output pile up unread is dropped; its cells keep running. */
const MAX_BUFFERED = 256 * 1024 * 1024;

export type { Request };

export interface Call {
  req: Request;
  ws: WebSocket;
  ctx: DaemonContext;
  conn: ConnInfo;
  /** Stream cell output to the client as binary frames. */
  output(stream: number, data: Buffer): void;
  /** Send an intermediate event for this request. */
  event(name: string, fields: Record<string, unknown>): void;
}

type Op = (call: Call) => Promise<unknown>;

function str(req: Request, key: string, required = true): string {
  const v = req[key];
  if (v === undefined && !required) return "";
  if (typeof v !== "string") throw new DaemonError("bad_request", `"${key}" must be a string`);
  return v;
}

function session(call: Call): Session {
  return call.ctx.table.get(str(call.req, "session"));
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

export async function runCell(call: Call, s: Session, code: string, cellId?: string, stdin?: string): Promise<Record<string, unknown>> {
  const result = await s.run(
    code,
    "run",
    (stream, data) => {
      call.output(stream, data);
      if (!throttled.has(call)) throttled.set(call, new Set());
      throttle(call.ws, s, throttled.get(call)!);
    },
    cellId,
    stdin,
  );
  return cellReply(result);
}

async function sessionSummary(s: Session): Promise<Record<string, unknown>> {
  const base: Record<string, unknown> = {
    name: s.name,
    state: s.state,
    pid: s.pid,
    python: s.info.python,
    executable: s.info.executable,
    cwd: s.info.cwd,
    started: s.info.started,
    last_activity: s.lastActivity / 1000,
  };
  if (s.state !== "alive") return { ...base, reason: s.deathReason };
  try {
    const st = await s.status(1000);
    return { ...base, busy: st.state === "running", running: st.running, queued: st.queued, memory: st.memory, cells: st.cells };
  } catch {
    return base;
  }
}

export const ops: Record<string, Op> = {
  async hello(call) {
    return { server: "pythond", protocol: 1, pid: process.pid, socket: call.ctx.socket, started: call.ctx.startedAt };
  },
  async ls(call) {
    return { sessions: await Promise.all(call.ctx.table.list().map(sessionSummary)) };
  },
  async new(call) {
    const { req } = call;
    const name = str(req, "session");
    const env = req.env as Record<string, string> | undefined;
    if (env !== undefined && (typeof env !== "object" || Object.values(env).some((v) => typeof v !== "string"))) {
      throw new DaemonError("bad_request", '"env" must map names to strings');
    }
    const s = await call.ctx.table.create(name, {
      replace: req.replace === true,
      python: str(req, "python", false) || undefined,
      cwd: str(req, "cwd", false) || undefined,
      env,
    });
    return { name: s.name, pid: s.pid, python: s.info.python, executable: s.info.executable, cwd: s.info.cwd };
  },
  async run(call) {
    const code = str(call.req, "code");
    if (!code.trim()) throw new DaemonError("bad_request", "run requires code");
    const cell = str(call.req, "cell", false);
    // A client that wants to know the cell id early (to poll it after a timeout) chooses it.
    if (cell && !/^[0-9a-f]{12}$/.test(cell)) throw new DaemonError("bad_request", '"cell" must be 12 lowercase hex digits');
    // What the cell's input() and sys.stdin read; without it an agent cell has no stdin.
    const stdin = call.req.stdin === undefined ? undefined : str(call.req, "stdin", false);
    return runCell(call, session(call), code, cell || undefined, stdin);
  },
  async fire(call) {
    const code = str(call.req, "code");
    if (!code.trim()) throw new DaemonError("bad_request", "fire requires code");
    const s = session(call);
    const { cell_id } = await s.exec(code, "fire");
    s.checkpoint.recordLaunch(code, JSON.stringify({ cell_id, status: "fired" }));
    return { cell_id, status: "fired" };
  },
  async poll(call) {
    const cell = str(call.req, "cell", false) || undefined;
    const s = session(call);
    if (s.isDead()) {
      // A cell the session died in: what it wrote (its last words included), and why.
      const lost = cell ? s.lostCells.get(cell) : [...s.lostCells.values()].pop();
      if (lost) {
        const { output, reason, ...rest } = lost;
        return { ...rest, state: "dead", ok: false, output: output.toString("utf8"), error: { type: "SessionDead", message: reason, traceback: "" } };
      }
    }
    const r = await pollCell(s, cell);
    const { output, chunks, ...rest } = r;
    return { ...rest, output: output.toString("utf8") };
  },
  async output(call) {
    const since = call.req.since ?? 0;
    if (!Number.isSafeInteger(since) || (since as number) < 0) throw new DaemonError("bad_request", '"since" must be an integer >= 0');
    return backgroundOutput(session(call), since as number);
  },
  async cancel(call) {
    const cell = str(call.req, "cell");
    return session(call).cancel(cell);
  },
  async cells(call) {
    return session(call).cells();
  },
  async status(call) {
    return session(call).status();
  },
  async vars(call) {
    return session(call).vars(call.req.reprs === true);
  },
  async complete(call) {
    return session(call).complete(str(call.req, "text", false));
  },
  async kill(call) {
    const name = str(call.req, "session");
    await call.ctx.table.kill(name);
    return { killed: name };
  },
  async stop(call) {
    const keep = call.req.keep_sessions === true;
    call.conn.afterReply = () => call.ctx.stop({ keepSessions: keep, closeCode: 1001 });
    return { stopping: true, keep_sessions: keep };
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

export function serveStructured(ws: WebSocket, ctx: DaemonContext, conn: ConnInfo, extraOps: Record<string, Op> = {}): void {
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
    const op = extraOps[req.op] ?? ops[req.op];
    const name = typeof req.session === "string" ? req.session : undefined;
    const sessionField = name === undefined ? "-" : isValidName(name) ? name : "invalid";
    ctx.log.write({ event: "command", conn_id: conn.id, peer: conn.peer, cmd: req.op, session: sessionField });
    const call: Call = {
      req,
      ws,
      ctx,
      conn,
      output(stream, chunk) {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > MAX_BUFFERED) {
          ws.terminate();
          return;
        }
        noteBytes(chunk.length);
        ws.send(encodeOutput(req.id, stream, chunk), { binary: true });
      },
      event(name, fields) {
        send(encodeEvent(req.id, name, fields));
      },
    };
    let status = "ok";
    try {
      if (!op) throw new DaemonError("unknown_op", `unknown op: ${req.op}`);
      const result = await op(call);
      send(encodeResult(req.id, result));
    } catch (e) {
      status = "error";
      send(encodeError(req.id, errorOf(e)));
    }
    ctx.log.write({ event: "result", conn_id: conn.id, peer: conn.peer, cmd: req.op, session: sessionField, status });
    const after = conn.afterReply;
    conn.afterReply = undefined;
    after?.();
  });
}
