// pythond 0.4's WebSocket text protocol (subprotocol "pythond.0.4"), byte for byte, except
// where docs/PROTOCOL.md lists a fixed 0.4 defect: each command (parsed by src/wire/legacy.ts)
// becomes an op's params, the op runs, and its result is written as 0.4's text (encoded by
// src/wire/legacy.ts). A connection is served serially, one reply per non-empty frame.
import type { WebSocket } from "ws";
import type { DaemonContext, ConnInfo } from "./context.js";
import { DaemonError } from "./errors.js";
import { isValidName } from "./names.js";
import { noteBytes } from "./idle-gc.js";
import { serveRequest } from "./request.js";
import {
  parseLegacy,
  codeOf,
  encodeErr,
  isErr,
  encodeJson,
  encodeRunReply,
  encodeNewReply,
  encodeLsReply,
  encodeIntReply,
  encodeKillReply,
  STOP_REPLY,
  type LegacyCommand,
} from "../wire/legacy.js";
import { legacyAttach } from "./legacy-attach.js";
import { quietSink } from "./ops/op.js";
import { ls } from "./ops/ls.js";
import { newSession } from "./ops/new.js";
import { run } from "./ops/run.js";
import { fire } from "./ops/fire.js";
import { fork } from "./ops/fork.js";
import { poll } from "./ops/poll.js";
import { status } from "./ops/status.js";
import { vars } from "./ops/vars.js";
import { complete } from "./ops/complete.js";
import { int } from "./ops/int.js";
import { kill } from "./ops/kill.js";
import { stop } from "./ops/stop.js";
import { connect } from "./ops/connect.js";
import { disconnect } from "./ops/disconnect.js";
import type { SessionHandle } from "../session/handle.js";

const HELP = `pythond 0.4.0 raw WebSocket protocol

Commands:
  new <name>                 create a Python session
  run <name> <code>          run code, reply with its output
  fire <name> <code>         run code in the background, reply with a cell id
  fork <name> <code>         run code in a forked child (POSIX), reply with a cell id
  poll <name> [cell_id]      result of an async cell
  status <name>              session health (JSON)
  vars <name>                namespace names (JSON)
  complete <name> <text>     completions (JSON)
  int <name>                 interrupt running cells
  kill <name>                end a session
  resize <name> <rows> <cols>
  attach <name> [rows cols]  attach the human REPL
  ls                         list sessions
  stop                       stop the daemon
  help                       this text

Notes:
pysh/pyctl prefixes are accepted but not required.
WebSocket is message-framed, not a terminal stream.
Empty frames are ignored; no prompt is emitted.`;

function stripTrailingNewlines(s: string): string {
  return s.replace(/\n+$/, "");
}

/** Turn any failure into the 0.4 "ERR <x>" text. */
export function legacyError(e: unknown): string {
  if (e instanceof DaemonError) return encodeErr(e.legacyMessage ?? e.message);
  const err = e as Error;
  if (err?.name === "Error" || err?.name === "LinkRemoteError") return encodeErr(err.message);
  return encodeErr(err?.name ?? "error");
}

/** The error codes of a remote that could not be reached or refused us (proxy/failure.ts). */
const PROBE_FAILURES = new Set(["refused", "auth_failed", "pin_failed", "tls_failed", "timeout", "unreachable"]);

type Verb = (ctx: DaemonContext, c: LegacyCommand, conn: ConnInfo) => Promise<string | null>;

/** The session a command names (its first word). */
function named(ctx: DaemonContext, c: LegacyCommand) {
  if (!c.args[0]) throw new DaemonError("bad_request", "need session name");
  return ctx.table.get(c.args[0]);
}

function codeFor(c: LegacyCommand, verb: string): string | DaemonError {
  const code = codeOf(c);
  return code.trim() ? code : new DaemonError("bad_request", `${verb} requires code`);
}

/**
 * The session and code of run/fire/fork. Through a proxy, `<verb> <proxy> <remote>\n<code>`
 * keeps its 0.4 meaning: a header word after the proxy's name names the remote session.
 */
function codeTarget(ctx: DaemonContext, c: LegacyCommand, verb: string): { s: SessionHandle; code: string | DaemonError } {
  const s = named(ctx, c);
  const word = c.rawAfterName.trim();
  if (s.remote && c.body !== undefined && isValidName(word)) return { s: s.remote.session(word), code: c.body.trim() ? c.body : new DaemonError("bad_request", `${verb} requires code`) };
  return { s, code: codeFor(c, verb) };
}

/** Every verb: the command's words parsed into the op's params, the op, its 0.4 text. */
const verbs: Record<string, Verb> = {
  async help(_ctx, c) {
    return c.args.length ? encodeErr("usage: help") : HELP;
  },
  async ls(ctx, c) {
    if (c.args.length) return encodeErr("usage: ls");
    const { sessions } = await ls(ctx, { status: false });
    return encodeLsReply(
      sessions.map((s) => {
        const p = s.proxy as { address: string; tls: boolean } | undefined;
        return { name: s.name, alive: s.state === "alive", pid: s.pid, ...(p ? { remote: p } : {}) };
      }),
    );
  },
  async new(ctx, c) {
    const name = c.args[0];
    if (!name) return encodeErr("usage: new <name>");
    if (!isValidName(name)) return encodeErr("invalid session name");
    if (c.args.length > 1) return encodeErr(`new takes a name only (got extra: ${c.args.slice(1).join(" ")}). sessions are always Python`);
    // 0.4 replaces an existing session on `new`; legacy clients keep that (docs/PROTOCOL.md).
    const r = await newSession(ctx, { name, replace: true });
    return encodeNewReply(name, r.pid);
  },
  async run(ctx, c) {
    const { s, code } = codeTarget(ctx, c, "run");
    if (code instanceof DaemonError) return encodeErr(code.message);
    const chunks: Buffer[] = [];
    const sink = { ...quietSink(), output: (_stream: number, data: Buffer) => void chunks.push(Buffer.from(data)) };
    const result = await run(ctx, { s, code }, sink);
    const text = stripTrailingNewlines(Buffer.concat(chunks).toString("utf8"));
    return encodeRunReply(!!result.ok, text);
  },
  async fire(ctx, c) {
    const { s, code } = codeTarget(ctx, c, "fire");
    if (code instanceof DaemonError) return encodeErr(code.message);
    return encodeJson(await fire(ctx, { s, code }));
  },
  async fork(ctx, c) {
    const { s, code } = codeTarget(ctx, c, "fork");
    if (code instanceof DaemonError) return encodeErr(code.message);
    return encodeJson(await fork(ctx, { s, code }));
  },
  async poll(ctx, c) {
    const s = named(ctx, c);
    const r = await poll(ctx, { s, cell: c.args[1], lost: false }, quietSink());
    if (r.state === "idle") return encodeJson({ status: "idle" });
    if (r.state === "unknown" || r.state === "evicted") return encodeJson({ cell_id: c.args[1], status: "error", output: r.state === "evicted" ? "evicted" : "unknown cell" });
    const out: Record<string, unknown> = {
      cell_id: r.cell_id,
      status: r.state === "done" || r.state === "cancelled" ? r.state : "running",
      output: stripTrailingNewlines(r.output),
    };
    if (r.mode === "fork") {
      out.merged = (r as { merged?: string[] }).merged ?? [];
      out.skipped = (r as { skipped?: string[] }).skipped ?? [];
    }
    if ((r.state === "done" || r.state === "cancelled") && r.ok === false) out.error = true;
    return encodeJson(out);
  },
  async status(ctx, c) {
    const result = await status(ctx, { s: named(ctx, c) });
    return encodeJson({ state: result.state, running: result.running, vars: result.vars, cells: result.cells });
  },
  async vars(ctx, c) {
    return encodeJson(await vars(ctx, { s: named(ctx, c), reprs: false }));
  },
  async complete(ctx, c) {
    const s = named(ctx, c);
    return encodeJson(await complete(ctx, { s, text: c.args[1] ?? "" }));
  },
  async int(ctx, c) {
    const name = c.args[0];
    if (!name || c.args.length > 1) return encodeErr("usage: int <name>");
    const s = ctx.table.find(name);
    if (!s) return encodeErr(`no session '${name}'`);
    // 0.4 answers at once; the escalation (if the cell ignores the interrupt) goes on.
    return encodeIntReply(name, await int(ctx, { s, wait: false }));
  },
  async kill(ctx, c) {
    const name = c.args[0];
    if (!name || c.args.length > 1) return encodeErr("usage: kill <name>");
    await kill(ctx, { name });
    return encodeKillReply(name);
  },
  async stop(ctx, c, conn) {
    if (c.args.length) return encodeErr("usage: pyctl stop");
    await stop(ctx, { keepSessions: false }, quietSink((fn) => (conn.afterReply = fn)));
    return STOP_REPLY;
  },
  async attach(ctx, c, conn) {
    if (!c.args[0]) return encodeErr("unknown: attach");
    return legacyAttach(ctx, c, conn);
  },
  async connect(ctx, c) {
    // 0.4: connect <name> <host:port> <token> [--tls]; ours also takes --replace (0.4 replaced silently).
    const flags = c.args.slice(3);
    const [alias, address, token] = c.args;
    if (c.body !== undefined || !token || flags.some((f) => f !== "--tls" && f !== "--replace")) return encodeErr("usage: pyctl connect <name> <host:port> <token> [--tls]");
    if (!isValidName(alias)) return encodeErr("invalid session name");
    let r;
    try {
      r = await connect(ctx, { alias, address, token, tls: flags.includes("--tls"), replace: flags.includes("--replace") });
    } catch (e) {
      // 0.4's shape for a remote that would not answer, with our exact reason.
      if (e instanceof DaemonError && PROBE_FAILURES.has(e.code)) return encodeErr(`remote probe failed: ${e.message}`);
      throw e;
    }
    return `OK connected ${alias} -> ${r.address}${r.tls ? " tls" : ""}`;
  },
  async disconnect(ctx, c) {
    if (c.args.length !== 1) return encodeErr("usage: pyctl disconnect <name>");
    await disconnect(ctx, { alias: c.args[0] });
    return `OK disconnected ${c.args[0]}`;
  },
};

export function legacyReply(ctx: DaemonContext, c: LegacyCommand, conn: ConnInfo): Promise<string | null> {
  const verb = Object.hasOwn(verbs, c.cmd) ? verbs[c.cmd] : undefined;
  return verb ? verb(ctx, c, conn) : Promise.resolve(encodeErr(`unknown: ${c.cmd}`));
}

export function serveLegacy(ws: WebSocket, ctx: DaemonContext, conn: ConnInfo): void {
  let chain = Promise.resolve();
  ws.on("message", (data, isBinary) => {
    if (conn.onMessage?.(data as Buffer, isBinary)) return; // an attach owns the connection
    if (isBinary) {
      ws.send(encodeErr("binary frame not allowed in command mode"));
      ws.close(1008, "binary frame not allowed");
      return;
    }
    const text = (data as Buffer).toString("utf8");
    chain = chain.then(async () => {
      const c = parseLegacy(text);
      if (!c) return;
      const body_bytes = c.body === undefined ? undefined : Buffer.byteLength(c.body);
      await serveRequest(
        ctx,
        conn,
        { cmd: c.cmd, session: c.args[0], extra: { body_bytes } },
        async () => {
          try {
            const reply = await legacyReply(ctx, c, conn);
            return { reply, ok: !(reply !== null && isErr(reply)) };
          } catch (e) {
            return { reply: legacyError(e), ok: false };
          }
        },
        (reply) => {
          if (reply !== null && ws.readyState === ws.OPEN) {
            noteBytes(reply.length);
            ws.send(reply);
          }
        },
      );
    });
  });
}
