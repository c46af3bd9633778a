// pythond 0.4's WebSocket text protocol (subprotocol "pythond.0.4"), byte for byte, except
// where docs/PROTOCOL.md lists a fixed 0.4 defect. One text frame is one command; a connection
// is served serially, one reply per non-empty frame.
import type { WebSocket } from "ws";
import type { DaemonContext, ConnInfo } from "./context.js";
import { DaemonError } from "./errors.js";
import { isValidName } from "./names.js";
import { pyJson } from "../util/py-json.js";
import { collectCell, pollCell } from "./cell-ops.js";
import { interruptSession, legacyIntText, forkCell } from "./async-ops.js";
import { noteBytes } from "./idle-gc.js";

export interface LegacyCommand {
  cmd: string;
  args: string[];
  /** Header text after the session name, untouched (whitespace kept). */
  rawAfterName: string;
  body?: string;
}

/** The 0.4 frame grammar (compat §3). Returns null for an empty command (no reply). */
export function parseLegacy(frame: string): LegacyCommand | null {
  let t = frame.replace(/\r\n/g, "\n");
  if (t.endsWith("\n") && t.indexOf("\n") === t.length - 1) t = t.slice(0, -1);
  const nl = t.indexOf("\n");
  const header = nl >= 0 ? t.slice(0, nl) : t;
  const body = nl >= 0 ? t.slice(nl + 1) : undefined;
  const tokens = header.split(/\s+/).filter(Boolean);
  let rest = header.replace(/^\s+/, "");
  if (tokens[0] === "pysh" || tokens[0] === "pyctl") {
    tokens.shift();
    rest = rest.slice(rest.search(/\s|$/)).replace(/^\s+/, "");
  }
  if (!tokens.length) return null;
  const cmd = tokens[0];
  const args = tokens.slice(1);
  if (body !== undefined) args.push(body);
  // rawAfterName: header text after the command and the session name.
  const afterCmd = rest.slice(cmd.length).replace(/^\s+/, "");
  const rawAfterName = tokens.length > 1 ? afterCmd.slice(tokens[1].length).replace(/^\s/, "") : "";
  return { cmd, args, rawAfterName, body };
}

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

/** The code of run/fire/fork: inline header text kept verbatim; header text before a body is its first line. */
function codeOf(c: LegacyCommand): string {
  if (c.body === undefined) return c.rawAfterName;
  return c.rawAfterName.trim() ? `${c.rawAfterName}\n${c.body}` : c.body;
}

function stripTrailingNewlines(s: string): string {
  return s.replace(/\n+$/, "");
}

/** Turn any failure into the 0.4 "ERR <x>" text. */
export function legacyError(e: unknown): string {
  if (e instanceof DaemonError) return `ERR ${e.legacyMessage ?? e.message}`;
  const err = e as Error;
  if (err?.name === "Error" || err?.name === "LinkRemoteError") return `ERR ${err.message}`;
  return `ERR ${err?.name ?? "error"}`;
}

export async function legacyReply(ctx: DaemonContext, c: LegacyCommand, conn: ConnInfo): Promise<string | null> {
  const { cmd, args } = c;
  const name = args[0];
  const needName = () => {
    if (!name) throw new DaemonError("bad_request", "need session name");
    return ctx.table.get(name);
  };
  switch (cmd) {
    case "help":
      return args.length ? "ERR usage: help" : HELP;
    case "ls": {
      if (args.length) return "ERR usage: ls";
      const all = ctx.table.list();
      if (!all.length) return "(no sessions)";
      return all.map((s) => `  ${s.name}: ${s.state === "alive" ? "alive" : "DEAD"} pid=${s.pid} (pty)`).join("\n");
    }
    case "new": {
      if (!name) return "ERR usage: new <name>";
      if (!isValidName(name)) return "ERR invalid session name";
      if (args.length > 1) return `ERR new takes a name only (got extra: ${args.slice(1).join(" ")}). sessions are always Python`;
      // 0.4 replaces an existing session on `new`; legacy clients keep that (docs/PROTOCOL.md).
      const s = await ctx.table.create(name, { replace: true });
      return `OK ${name} pid=${s.pid}`;
    }
    case "run": {
      const s = needName();
      const code = codeOf(c);
      if (!code.trim()) return "ERR run requires code";
      const { result, output } = await collectCell(s, code, "run");
      const text = stripTrailingNewlines(output.toString("utf8"));
      return result.ok ? text : `ERR execution failed\n${text}`;
    }
    case "fire": {
      const s = needName();
      const code = codeOf(c);
      if (!code.trim()) return "ERR fire requires code";
      const { cell_id } = await s.exec(code, "fire");
      const reply = pyJson({ cell_id, status: "fired" });
      s.checkpoint.recordLaunch(code, reply);
      return reply;
    }
    case "fork": {
      const s = needName();
      const code = codeOf(c);
      if (!code.trim()) return "ERR fork requires code";
      const cell_id = await forkCell(s, code);
      const reply = pyJson({ cell_id, status: "forked" });
      s.checkpoint.recordLaunch(code, reply);
      return reply;
    }
    case "poll": {
      const s = needName();
      const r = await pollCell(s, args[1]);
      if (r.state === "idle") return pyJson({ status: "idle" });
      if (r.state === "unknown" || r.state === "evicted") return pyJson({ cell_id: args[1], status: "error", output: r.state === "evicted" ? "evicted" : "unknown cell" });
      const out: Record<string, unknown> = {
        cell_id: r.cell_id,
        status: r.state === "done" || r.state === "cancelled" ? r.state : "running",
        output: stripTrailingNewlines(r.output.toString("utf8")),
      };
      if (r.mode === "fork") {
        out.merged = (r as { merged?: string[] }).merged ?? [];
        out.skipped = (r as { skipped?: string[] }).skipped ?? [];
      }
      if ((r.state === "done" || r.state === "cancelled") && r.ok === false) out.error = true;
      return pyJson(out);
    }
    case "status": {
      const s = needName();
      const result = await s.status();
      return pyJson({ state: result.state, running: result.running, vars: result.vars, cells: result.cells });
    }
    case "vars": {
      const s = needName();
      return pyJson(await s.vars());
    }
    case "complete": {
      const s = needName();
      const text = args[1] ?? "";
      return pyJson(await s.complete(text));
    }
    case "int": {
      if (!name || args.length > 1) return "ERR usage: int <name>";
      const s = ctx.table.find(name);
      if (!s) return `ERR no session '${name}'`;
      // 0.4 answers at once; the escalation (if the cell ignores the interrupt) goes on.
      return legacyIntText(name, await interruptSession(s, { wait: false }));
    }
    case "kill": {
      if (!name || args.length > 1) return "ERR usage: kill <name>";
      await ctx.table.kill(name);
      return `OK killed ${name}`;
    }
    case "stop": {
      if (args.length) return "ERR usage: pyctl stop";
      conn.afterReply = () => ctx.stop({ keepSessions: false, closeCode: 1001 });
      return "OK stopping daemon";
    }
    case "attach":
      if (!name) return "ERR unknown: attach";
      return ctx.legacyAttach ? ctx.legacyAttach(c, conn) : `ERR session '${name}' has no PTY`;
    case "connect":
    case "disconnect":
      return `ERR ${cmd}: remote proxies are not available in this version`;
    default:
      return `ERR unknown: ${cmd}`;
  }
}

export function serveLegacy(ws: WebSocket, ctx: DaemonContext, conn: ConnInfo): void {
  let chain = Promise.resolve();
  ws.on("message", (data, isBinary) => {
    if (conn.onMessage?.(data as Buffer, isBinary)) return; // an attach owns the connection
    if (isBinary) {
      ws.send("ERR binary frame not allowed in command mode");
      ws.close(1008, "binary frame not allowed");
      return;
    }
    const text = (data as Buffer).toString("utf8");
    chain = chain.then(async () => {
      const c = parseLegacy(text);
      if (!c) return;
      const session = c.args[0] === undefined ? "-" : isValidName(c.args[0]) ? c.args[0] : "invalid";
      const bodyBytes = c.body === undefined ? undefined : Buffer.byteLength(c.body);
      ctx.log.write({ event: "command", conn_id: conn.id, peer: conn.peer, cmd: c.cmd, session, body_bytes: bodyBytes });
      let reply: string | null;
      let status = "ok";
      try {
        reply = await legacyReply(ctx, c, conn);
        if (reply?.startsWith("ERR ")) status = "error";
      } catch (e) {
        reply = legacyError(e);
        status = "error";
      }
      ctx.log.write({ event: "result", conn_id: conn.id, peer: conn.peer, cmd: c.cmd, session, status });
      if (reply !== null && ws.readyState === ws.OPEN) {
        noteBytes(reply.length);
        ws.send(reply);
      }
      const after = conn.afterReply;
      conn.afterReply = undefined;
      after?.();
    });
  });
}
