// The one client of the structured protocol: pysh, pyctl and SDK users all come through here.
// Our own small WebSocket client, not ws: keeps node:http & co. off the pysh cold path (unix-ws.ts).
import { UnixWebSocket } from "./unix-ws.js";
import { socketPath } from "../util/paths.js";
import { ConnectError, DaemonRequestError } from "./errors.js";
import { autostartAllowed, startDaemonInBackground } from "./autostart.js";

export const PROTOCOL = "pythond.json.1";
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;

export interface ConnectOptions {
  socket?: string;
  /** Start a daemon in the background if none answers (default: yes unless PYTHOND_NO_AUTOSTART=1). */
  autostart?: boolean;
  timeoutMs?: number;
}

export interface RequestHandlers {
  /** Cell output as it is produced: stream 1 = stdout, 2 = stderr. */
  output?(stream: number, data: Buffer): void;
  /** Intermediate events for this request (e.g. "waiting" from poll, "attached"). */
  event?(name: string, fields: Record<string, unknown>): void;
}

interface Pending extends RequestHandlers {
  resolve(v: any): void;
  reject(e: Error): void;
}

export interface CellOutcome {
  cell_id: string;
  ok: boolean;
  value: string | null;
  error: { type: string; message: string; traceback: string } | null;
  duration: number | null;
  dropped: number;
  /** PNG files saved for an image value (rich outputs). */
  images?: string[];
}

function open(sock: string, timeoutMs: number): Promise<UnixWebSocket> {
  return UnixWebSocket.connect(sock, {
    protocol: PROTOCOL,
    maxPayload: Number(process.env.PYTHOND_MAX_MESSAGE) || DEFAULT_MAX_MESSAGE,
    handshakeTimeout: timeoutMs,
  });
}

export class Client {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | null = null;
  private onClosed: (e: Error) => void = () => {};
  /** Resolves with the reason once the connection to the daemon is gone (a long-lived client's cue to reconnect). */
  readonly closed = new Promise<Error>((resolve) => (this.onClosed = resolve));

  private constructor(private readonly ws: UnixWebSocket, readonly socket: string) {
    ws.on("message", (data: Buffer, isBinary: boolean) => (isBinary ? this.onBinary(data) : this.onText(data)));
    ws.on("close", (code: number, reason: Buffer) => {
      this.closedError = new ConnectError(`daemon closed the connection (${code}${reason.length ? ` ${reason}` : ""})`);
      for (const p of this.pending.values()) p.reject(this.closedError);
      this.pending.clear();
      this.onClosed(this.closedError);
    });
    ws.on("error", () => {});
  }

  static async connect(opts: ConnectOptions = {}): Promise<Client> {
    const sock = opts.socket ?? socketPath();
    const timeoutMs = opts.timeoutMs ?? 5000;
    try {
      return new Client(await open(sock, timeoutMs), sock);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const absent = code === "ENOENT" || code === "ECONNREFUSED";
      if (!absent) throw new ConnectError(`cannot connect to ${sock}: ${(e as Error).message}`);
      if (!(opts.autostart ?? autostartAllowed())) {
        throw new ConnectError(`daemon not running on ${sock} -- start: pythond daemon`);
      }
    }
    await startDaemonInBackground(sock);
    try {
      return new Client(await open(sock, timeoutMs), sock);
    } catch (e) {
      throw new ConnectError(`cannot connect to ${sock}: ${(e as Error).message}`);
    }
  }

  /** True once the daemon closed this connection (every later request rejects). */
  get isClosed(): boolean {
    return this.closedError !== null;
  }

  private onText(data: Buffer): void {
    let msg: any;
    try {
      msg = JSON.parse(data.toString("utf8"));
    } catch {
      return; // not ours to guess at
    }
    const p = this.pending.get(msg?.id);
    if (!p) return;
    if (msg.event !== undefined) {
      const { id, event, ...fields } = msg;
      p.event?.(event, fields);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new DaemonRequestError(String(msg.error?.code ?? "internal"), String(msg.error?.message ?? "unknown error")));
  }

  private onBinary(data: Buffer): void {
    if (data.length < 5) return;
    const p = this.pending.get(data.readUInt32BE(0));
    p?.output?.(data.readUInt8(4), data.subarray(5));
  }

  request<T = any>(op: string, fields: Record<string, unknown> = {}, handlers: RequestHandlers = {}): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...handlers });
      this.ws.send(JSON.stringify({ ...fields, id, op }));
    });
  }

  /**
   * Run code in a session; output streams to handlers.output, the outcome resolves. `cell`
   * (12 lowercase hex digits) names the cell, so a caller that stops waiting can poll it.
   * `stdin` is what the cell's input() and sys.stdin read (without it they have nothing).
   */
  run(session: string, code: string, handlers: RequestHandlers = {}, cell?: string, stdin?: string): Promise<CellOutcome> {
    return this.request("run", { session, code, ...(cell ? { cell } : {}), ...(stdin !== undefined ? { stdin } : {}) }, handlers);
  }

  /** Send a raw frame (attach mode: binary keystrokes, text resize/detach messages). */
  sendRaw(data: Buffer | string): void {
    if (this.ws.isOpen) this.ws.send(data);
  }

  close(): void {
    this.ws.close(1000);
  }
}
