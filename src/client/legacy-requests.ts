// Our client against a pythond 0.4 daemon: the structured requests pysh makes, said in 0.4's
// text protocol (compat §3-§6, its bytes in src/wire/legacy.ts) as far as 0.4 can serve them,
// and the replies turned back into the structured results. One frame out, one reply back, in order (0.4 serves a
// connection serially). What 0.4 lacks (cells, cancel, restart, new's options, ...) is a
// clear error, not a guess.
import type { UnixWebSocket } from "./unix-ws.js";
import { DaemonRequestError, ConnectError } from "./errors.js";
import type { RequestHandlers, LegacyBridge, CellOutcome } from "./requests.js";
import { SCREEN_STREAM, STDOUT_STREAM, STDERR_STREAM, parseAttachControl } from "../wire/structured.js";
import {
  encodeCommand,
  parseErr,
  parseJson,
  parseRunReply,
  parseNewReply,
  parseLsReply,
  parseIntReply,
  attachWords,
  ATTACHED_REPLY,
  DETACH,
  DETACHED_REASON,
  type LegacyLsEntry,
} from "../wire/legacy.js";

const POLL_EVERY_MS = 200;

function unsupported(op: string): never {
  throw new DaemonRequestError("unsupported", `${op} needs a newer daemon: this one is pythond 0.4`);
}

const unexpected = (reply: string) => new DaemonRequestError("protocol", `unexpected reply from the pythond 0.4 daemon: ${reply.slice(0, 200)}`);

function json(reply: string): any {
  const value = parseJson(ok(reply));
  if (value === undefined) throw unexpected(reply);
  return value;
}

function ok(reply: string): string {
  const err = parseErr(reply);
  if (err !== undefined) throw new DaemonRequestError("error", err);
  return reply;
}


export class LegacyRequests implements LegacyBridge {
  private chain: Promise<unknown> = Promise.resolve();
  private waiter: ((reply: string | null) => void) | null = null;
  /** While attached (0.4 §7): the screen goes here, and the attach ends with the connection. */
  private attached: { handlers: RequestHandlers; end: () => void } | null = null;
  /** Screen frames that came with "OK attached", before the attach promise could take over. */
  private early: Buffer[] | null = null;

  constructor(private readonly ws: UnixWebSocket, private readonly closedError: () => Error | null) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (this.attached) {
        if (isBinary) this.attached.handlers.output?.(SCREEN_STREAM, data);
        return; // "OK detached" is followed by close 1000
      }
      if (isBinary) {
        this.early?.push(Buffer.from(data));
        return;
      }
      const w = this.waiter;
      this.waiter = null;
      w?.(data.toString("utf8"));
    });
    ws.on("close", () => {
      const w = this.waiter;
      this.waiter = null;
      w?.(null);
      this.attached?.end();
    });
  }

  /**
   * Raw frames while attached: keystrokes (binary) pass as they are; our JSON controls become
   * 0.4's ("detach"); a resize has no 0.4 form while attached (§14.15) and is dropped.
   */
  sendRaw(data: Buffer | string): void {
    if (typeof data !== "string") return this.ws.send(data);
    if (parseAttachControl(data)?.op === "detach") this.ws.send(DETACH);
  }

  private async attach(session: string, f: Record<string, any>, handlers: RequestHandlers): Promise<any> {
    const size = Number.isInteger(f.rows) && Number.isInteger(f.cols) ? { rows: f.rows as number, cols: f.cols as number } : undefined;
    // The scrollback frame often arrives in the same read as "OK attached": keep it.
    this.early = [];
    let reply: string;
    try {
      reply = ok(await this.ask(encodeCommand("attach", attachWords(session, size))));
      if (reply !== ATTACHED_REPLY) throw new DaemonRequestError("protocol", `unexpected reply to attach: ${reply.slice(0, 200)}`);
    } catch (e) {
      this.early = null;
      throw e;
    }
    const early = this.early;
    this.early = null;
    return new Promise((resolve, reject) => {
      this.attached = {
        handlers,
        end: () => {
          this.attached = null;
          const e = this.closedError();
          // 0.4 ends an attach with close 1000 "detached" (or "session killed")
          if (e && e.message.includes(`(1000 ${DETACHED_REASON})`)) resolve({});
          else reject(e ?? new ConnectError("daemon closed the connection"));
        },
      };
      handlers.event?.("attached", {});
      for (const b of early) handlers.output?.(SCREEN_STREAM, b);
    });
  }

  /** Send one frame, get its one reply; frames are sent one at a time. */
  private ask(frame: string): Promise<string> {
    const turn = this.chain.then(
      () =>
        new Promise<string>((resolve, reject) => {
          const closed = this.closedError();
          if (closed) return reject(closed);
          this.waiter = (reply) => (reply === null ? reject(this.closedError() ?? new ConnectError("daemon closed the connection")) : resolve(reply));
          this.ws.send(frame);
        }),
    );
    this.chain = turn.catch(() => {});
    return turn;
  }

  async request(op: string, f: Record<string, any>, handlers: RequestHandlers): Promise<any> {
    const s = String(f.session ?? "");
    switch (op) {
      case "hello":
        return { server: "pythond 0.4", protocol: 0, pid: "?" };
      case "ls":
        return { sessions: parseLsReply(ok(await this.ask(encodeCommand("ls")))).map(lsEntry) };
      case "new": {
        if (f.replace || f.python || f.cwd || f.env || f.int_grace !== undefined) unsupported("new with options");
        const r = parseNewReply(ok(await this.ask(encodeCommand("new", [s]))));
        return { name: r?.name ?? s, pid: r ? r.pid : null };
      }
      case "run":
        return this.run(s, String(f.code), handlers);
      case "fire":
      case "fork":
        return json(await this.ask(encodeCommand(op, [s], String(f.code))));
      case "poll":
        return this.poll(s, f.cell, f.wait);
      case "status":
      case "vars":
        return json(await this.ask(encodeCommand(op, [s])));
      case "complete":
        return json(await this.ask(encodeCommand("complete", [s, String(f.text ?? "")])));
      case "int": {
        const reply = ok(await this.ask(encodeCommand("int", [s])));
        return parseIntReply(reply) ?? { outcome: "interrupted", message: reply };
      }
      case "kill":
        ok(await this.ask(encodeCommand("kill", [s])));
        return {};
      case "stop":
        ok(await this.ask(encodeCommand("stop")));
        return {};
      case "attach":
        return this.attach(s, f, handlers);
      default:
        unsupported(op);
    }
  }

  private async run(session: string, code: string, handlers: RequestHandlers): Promise<CellOutcome> {
    const reply = await this.ask(encodeCommand("run", [session], code));
    const cell = parseRunReply(reply);
    if (!cell) throw new DaemonRequestError("error", parseErr(reply) ?? reply); // not the cell's error
    const { output } = cell;
    const failed = !cell.ok;
    // 0.4 keeps one buffer for stdout and stderr: all of a failed cell goes to stderr.
    if (output) handlers.output?.(failed ? STDERR_STREAM : STDOUT_STREAM, Buffer.from(output));
    const lastLine = output.trimEnd().split("\n").pop() ?? "";
    return {
      cell_id: "",
      ok: !failed,
      value: null,
      error: failed ? { type: /^(\w+)(:|$)/.exec(lastLine)?.[1] ?? "Exception", message: lastLine, traceback: output } : null,
      duration: null,
      dropped: 0,
    };
  }

  private async poll(session: string, cell: string | undefined, waitS: number | undefined): Promise<any> {
    const until = Date.now() + (waitS ?? 0) * 1000;
    for (;;) {
      const r = json(await this.ask(encodeCommand("poll", cell ? [session, cell] : [session])));
      if (r.status === "idle") return { state: "idle" };
      if (r.status === "error") return { state: "unknown", cell_id: r.cell_id };
      const fork = Array.isArray(r.merged);
      const out = { cell_id: r.cell_id, state: r.status, output: r.output ?? "", ok: r.error !== true, mode: fork ? "fork" : "fire", merged: r.merged, skipped: r.skipped };
      if (r.status !== "running" || waitS === undefined || Date.now() >= until) return out;
      await new Promise((res) => setTimeout(res, Math.min(POLL_EVERY_MS, Math.max(0, until - Date.now()))));
    }
  }
}

/** An ls entry as the structured protocol gives it. */
function lsEntry(e: LegacyLsEntry): any {
  const state = e.alive ? "alive" : "dead";
  if (e.kind === "remote") return { name: e.name, state, pid: null, kind: "remote", target: e.target, tls: e.tls, busy: false };
  return { name: e.name, state, pid: e.pid, kind: e.kind, busy: false };
}
