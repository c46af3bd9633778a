// One browser WebSocket, bridged to the daemon through src/client: the same attach hub as
// `pysh attach` (the daemon's), plus the session list, the cells of the attached session, a
// cell's output, and interrupt. The browser speaks small JSON messages (page/protocol.ts);
// screen bytes and keystrokes travel as binary frames, unchanged.
//
// Read-only is this bridge's rule: keys and resizes from the browser reach the session only
// after the page asked for the keyboard ("take the keyboard"), and a new connection starts
// read-only. When the daemon goes away (pyctl restart), the browser connection is closed with
// CLOSE_DAEMON_GONE and the page reconnects, resuming the screen from its byte offset.
import type { WebSocket } from "ws";
import { Client } from "../client/client.js";
import { ConnectError } from "../client/errors.js";
import type { AccessLog } from "../daemon/access-log.js";
import { SCREEN_STREAM, encodeResize, encodeDetach } from "../wire/structured.js";

export const CLOSE_DAEMON_GONE = 4001;
export const CLOSE_NO_DAEMON = 4002;
/** Largest text message taken from the browser (they are small JSON requests). */
export const MAX_TEXT_MESSAGE = 64 * 1024;
/** Largest keystroke frame (the daemon's own limit). */
export const MAX_KEYS_FRAME = 1024 * 1024;
/** A browser this far behind on screen output is dropped (it reconnects and resumes). */
const MAX_BROWSER_BACKLOG = 8 * 1024 * 1024;
/** A cell's output sent to the page at most (the rest: pysh poll). */
export const MAX_CELL_OUTPUT = 256 * 1024;
// The lists are asked for on a timer (the daemon has no change feed); cells also soon after the
// screen moves, which is where agent cells show up. Each ask is a line in the access log.
const SESSIONS_EVERY_MS = 5000;
const CELLS_EVERY_MS = 3000;
const CELLS_AFTER_SCREEN_MS = 250;
const CELLS_SHOWN = 200;
const NAME = /^[A-Za-z0-9_-]{1,80}$/; // the daemon checks the real rule; this keeps junk out
const CELL = /^[0-9a-f]{1,64}$/;

export interface BridgeOptions {
  socket?: string;
  log: AccessLog;
  peer: string;
}

type Msg = Record<string, unknown>;

function size(m: Msg): { rows: number; cols: number } | undefined {
  const ok = (n: unknown) => Number.isInteger(n) && (n as number) > 0 && (n as number) < 10000;
  return ok(m.rows) && ok(m.cols) ? { rows: m.rows as number, cols: m.cols as number } : undefined;
}

export class Bridge {
  private client: Client | undefined;
  private session: string | undefined;
  private attached = false;
  private writable = false;
  private size: { rows: number; cols: number } | undefined;
  private timers: NodeJS.Timeout[] = [];
  private lastSessions = "";
  private lastCells = "";
  private cellsSoon: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly ws: WebSocket, private readonly opts: BridgeOptions) {
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on("close", () => this.close());
    ws.pause(); // messages wait until the daemon connection is up
    void this.start();
  }

  private send(m: Msg): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(m));
  }

  private async start(): Promise<void> {
    try {
      // Never starts a daemon: a browser reconnecting during `pyctl restart` must not race it.
      this.client = await Client.connect({ socket: this.opts.socket, autostart: false, timeoutMs: 5000 });
    } catch {
      // Said by the close code (the page shows "reconnecting… (no daemon answers)" and retries).
      this.ws.resume();
      this.ws.close(CLOSE_NO_DAEMON, "daemon not running");
      return;
    }
    if (this.closed) return this.client.close();
    void this.client.closed.then(() => {
      if (!this.closed) this.ws.close(CLOSE_DAEMON_GONE, "daemon connection lost");
    });
    this.send({ t: "ready" });
    this.ws.resume();
    this.every(SESSIONS_EVERY_MS, () => this.sessions());
    this.every(CELLS_EVERY_MS, () => this.cells());
  }

  private every(ms: number, f: () => Promise<void>): void {
    let busy = false;
    const tick = () => {
      if (busy || this.closed) return;
      busy = true;
      f().finally(() => (busy = false));
    };
    tick();
    this.timers.push(setInterval(tick, ms));
  }

  private async sessions(): Promise<void> {
    try {
      const { sessions } = await this.client!.request("ls");
      const text = JSON.stringify(sessions);
      if (text !== this.lastSessions) this.send({ t: "sessions", sessions });
      this.lastSessions = text;
    } catch {
      /* the close handler reports a lost daemon */
    }
  }

  private async cells(): Promise<void> {
    const name = this.session;
    if (!name || !this.attached) return;
    try {
      const r = await this.client!.request("cells", { session: name });
      const cells = (r.cells as unknown[]).slice(-CELLS_SHOWN);
      const text = JSON.stringify(cells);
      if (text !== this.lastCells && name === this.session) this.send({ t: "cells", session: name, cells, evicted: r.evicted });
      this.lastCells = text;
    } catch {
      /* a dead session ends the attach, which says so */
    }
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!this.client) return;
    if (isBinary) {
      // Keys: only with the keyboard taken, and never more than one keystroke frame's limit.
      if (this.attached && this.writable && data.length <= MAX_KEYS_FRAME) this.client.sendRaw(Buffer.from(data));
      return;
    }
    let m: Msg;
    try {
      if (data.length > MAX_TEXT_MESSAGE) throw new Error("too large");
      m = JSON.parse(data.toString("utf8"));
      if (typeof m !== "object" || m === null || Array.isArray(m)) throw new Error("not an object");
    } catch {
      this.send({ t: "warning", message: "unreadable message from the page (not a JSON object of at most 64 KiB)" });
      return;
    }
    switch (m.t) {
      case "attach":
        return this.attach(m);
      case "detach":
        if (this.attached) this.client.sendRaw(encodeDetach());
        return;
      case "keyboard":
        this.writable = m.on === true;
        this.send({ t: "keyboard", on: this.writable });
        if (this.writable && this.size && this.attached) this.client.sendRaw(encodeResize(this.size.rows, this.size.cols));
        return;
      case "resize": {
        const s = size(m);
        if (!s) return this.send({ t: "warning", message: "resize needs rows and cols from 1 to 9999" });
        this.size = s;
        if (this.writable && this.attached) this.client.sendRaw(encodeResize(s.rows, s.cols));
        return;
      }
      case "int":
        return void this.interrupt();
      case "cell":
        return void this.cell(m.cell);
      case "ping":
        return this.send({ t: "pong" });
      default:
        this.send({ t: "warning", message: `unknown message type ${JSON.stringify(String(m.t)).slice(0, 40)}` });
    }
  }

  private attach(m: Msg): void {
    if (typeof m.session !== "string" || !NAME.test(m.session)) return this.send({ t: "error", message: "attach needs a session name" });
    if (this.attached) return this.send({ t: "error", message: `already attached to ${this.session}; detach first` });
    const s = size(m);
    if (s) this.size = s;
    const resume = Number.isSafeInteger(m.from) && typeof m.screen === "string" && CELL.test(m.screen) ? { from: m.from, screen: m.screen } : {};
    this.session = m.session;
    this.attached = true;
    this.lastCells = "";
    const name = m.session;
    this.client!.request(
      "attach",
      { session: name, read_only: false, ...(this.writable && this.size ? this.size : {}), ...resume },
      {
        event: (event, fields) => {
          if (event === "attached") this.send({ t: "attached", ...fields });
          else if (event === "warning") this.send({ t: "warning", message: fields.message });
        },
        output: (stream, bytes) => {
          if (stream !== SCREEN_STREAM || this.ws.readyState !== this.ws.OPEN) return;
          if (this.ws.bufferedAmount > MAX_BROWSER_BACKLOG) return this.ws.terminate();
          this.ws.send(bytes, { binary: true });
          this.cellsSoon ??= setTimeout(() => {
            this.cellsSoon = undefined;
            void this.cells();
          }, CELLS_AFTER_SCREEN_MS);
        },
      },
    ).then(
      (r) => {
        this.attached = false;
        this.send({ t: "detached", session: name, reason: r?.reason ?? "detached" });
      },
      (e) => {
        this.attached = false;
        if (this.closed || e instanceof ConnectError) return; // a lost daemon: the close that follows says so
        this.send({ t: "error", session: name, message: (e as Error).message });
      },
    );
    void this.cells();
  }

  private async interrupt(): Promise<void> {
    if (!this.session) return this.send({ t: "error", message: "interrupt: no session open" });
    try {
      const r = await this.client!.request("int", { session: this.session });
      this.send({ t: "int", session: this.session, outcome: r.outcome, message: r.message });
    } catch (e) {
      this.send({ t: "error", message: `interrupt: ${(e as Error).message}` });
    }
  }

  private async cell(id: unknown): Promise<void> {
    if (!this.session || typeof id !== "string" || !CELL.test(id)) return this.send({ t: "error", message: "cell needs a cell id of the open session" });
    try {
      const r = await this.client!.request("poll", { session: this.session, cell: id });
      const output = String(r.output ?? "");
      const cut = output.length > MAX_CELL_OUTPUT;
      this.send({ t: "cell", ...r, output: cut ? output.slice(0, MAX_CELL_OUTPUT) : output, truncated: cut });
    } catch (e) {
      this.send({ t: "error", message: `cell ${id}: ${(e as Error).message}` });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.cellsSoon);
    this.client?.close();
    this.opts.log.write({ event: "web-disconnect", peer: this.opts.peer });
  }
}
