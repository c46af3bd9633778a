// The one client of the structured protocol: pysh, pyctl and SDK users all come through here.
// Our own small WebSocket client, not ws: keeps node:http & co. off the pysh cold path (unix-ws.ts).
import { UnixWebSocket } from "./unix-ws.js";
import { socketPath } from "../util/paths.js";
import { ConnectError, DaemonRequestError } from "./errors.js";
import type { RequestHandlers, LegacyBridge } from "./requests.js";
export type { RequestHandlers, CellOutcome, LegacyBridge } from "./requests.js";
import type { CellOutcome } from "./requests.js";
import type { RemoteTarget } from "./remote.js";
import { autostartAllowed, startDaemonInBackground } from "./autostart.js";
import { STRUCTURED_PROTOCOL, LEGACY_PROTOCOL, encodeRequest, parseIncoming, decodeOutput } from "../wire/structured.js";
import { AUTH_FAILED_CODE, AUTH_FAILED_REASON } from "../wire/legacy.js";

export const PROTOCOL = STRUCTURED_PROTOCOL;
/** Offered second: a pythond 0.4 daemon picks it, and requests go through legacy-requests.ts. */
export { LEGACY_PROTOCOL };
const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;

export interface ConnectOptions {
  socket?: string;
  /** Start a daemon in the background if none answers (default: yes unless PYTHOND_NO_AUTOSTART=1). */
  autostart?: boolean;
  timeoutMs?: number;
}


interface Pending extends RequestHandlers {
  resolve(v: any): void;
  reject(e: Error): void;
}


const wsOptions = (timeoutMs: number) => ({
  protocols: [PROTOCOL, LEGACY_PROTOCOL],
  maxPayload: Number(process.env.PYTHOND_MAX_MESSAGE) || DEFAULT_MAX_MESSAGE,
  handshakeTimeout: timeoutMs,
});

function open(sock: string, timeoutMs: number): Promise<UnixWebSocket> {
  return UnixWebSocket.connect(sock, wsOptions(timeoutMs));
}


export class Client {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | null = null;
  private onClosed: (e: Error) => void = () => {};
  /** Resolves with the reason once the connection to the daemon is gone (a long-lived client's cue to reconnect). */
  readonly closed = new Promise<Error>((resolve) => (this.onClosed = resolve));
  private legacy: LegacyBridge | undefined;

  /** `socket`: the Unix socket path, or "host:port" of a remote daemon. */
  private constructor(private readonly ws: UnixWebSocket, readonly socket: string, readonly remote = false) {
    ws.on("close", (code: number, reason: Buffer) => {
      this.closedError =
        code === AUTH_FAILED_CODE && String(reason) === AUTH_FAILED_REASON
          ? new ConnectError(`auth failed at ${socket}: wrong token -- check PYTHOND_TOKEN or PYTHOND_TOKEN_FILE (the server shows it with: pyctl token)`)
          : new ConnectError(`daemon closed the connection (${code}${reason.length ? ` ${reason}` : ""})`);
      for (const p of this.pending.values()) p.reject(this.closedError);
      this.pending.clear();
      this.onClosed(this.closedError);
    });
    ws.on("error", () => {});
  }

  private static async make(ws: UnixWebSocket, where: string, remote: boolean): Promise<Client> {
    const c = new Client(ws, where, remote);
    if (ws.protocol === LEGACY_PROTOCOL) {
      const { LegacyRequests } = await import("./legacy-requests.js");
      c.legacy = new LegacyRequests(ws, () => c.closedError);
    } else ws.on("message", (data: Buffer, isBinary: boolean) => (isBinary ? c.onBinary(data) : c.onText(data)));
    return c;
  }

  static async connect(opts: ConnectOptions = {}): Promise<Client> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    // A remote daemon: TLS, pins and the token are loaded only on this path (remote.ts).
    if (!opts.socket && process.env.PYTHOND_HOST) {
      const { openRemote } = await import("./remote.js");
      const { ws, target } = await openRemote(wsOptions(timeoutMs), timeoutMs);
      return Client.make(ws, target.name, true);
    }
    const sock = opts.socket ?? socketPath();
    try {
      return await Client.make(await open(sock, timeoutMs), sock, false);
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
      return await Client.make(await open(sock, timeoutMs), sock, false);
    } catch (e) {
      throw new ConnectError(`cannot connect to ${sock}: ${(e as Error).message}`);
    }
  }

  /** A remote daemon at `target` with this token (a proxy's link; PYTHOND_HOST and PYTHOND_TOKEN are not read). */
  static async connectTo(target: RemoteTarget, token: string, timeoutMs = 5000): Promise<Client> {
    const { openRemoteTo } = await import("./remote.js");
    return Client.make(await openRemoteTo(target, token, wsOptions(timeoutMs), timeoutMs), target.name, true);
  }

  /** True once the daemon closed this connection (every later request rejects). */
  get isClosed(): boolean {
    return this.closedError !== null;
  }

  private onText(data: Buffer): void {
    const msg = parseIncoming(data.toString("utf8"));
    if (!msg) return; // not ours to guess at
    const p = this.pending.get(msg.id as number);
    if (!p) return;
    if (msg.kind === "event") {
      p.event?.(msg.event, msg.fields);
      return;
    }
    this.pending.delete(msg.id as number);
    if (msg.kind === "result") p.resolve(msg.result);
    else p.reject(new DaemonRequestError(msg.error.code, msg.error.message));
  }

  private onBinary(data: Buffer): void {
    const frame = decodeOutput(data);
    if (!frame) return;
    this.pending.get(frame.id)?.output?.(frame.stream, frame.data);
  }

  request<T = any>(op: string, fields: Record<string, unknown> = {}, handlers: RequestHandlers = {}): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.legacy) return this.legacy.request(op, fields, handlers);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...handlers });
      this.ws.send(encodeRequest(id, op, fields));
    });
  }

  /**
   * Run code in a session; output streams to handlers.output, the outcome resolves. `cell`
   * (12 lowercase hex digits) names the cell, so a caller that stops waiting can poll it.
   * `stdin` is what the cell's input() and sys.stdin read (without it they have nothing).
   * `via`, through a proxy: `remote` names another session of its remote daemon; `words` are
   * the code arguments as typed, of which (two or more) the first names the remote session
   * (pythond 0.4's `run <proxy> <remote> code`).
   */
  /** True when the daemon is pythond 0.4 (text protocol): only what 0.4 can serve works. */
  get isLegacy(): boolean {
    return this.legacy !== undefined;
  }

  run(session: string, code: string, handlers: RequestHandlers = {}, cell?: string, stdin?: string, via?: { remote?: string; words?: string[] }): Promise<CellOutcome> {
    return this.request("run", { session, code, ...(cell ? { cell } : {}), ...(stdin !== undefined ? { stdin } : {}), ...via }, handlers);
  }

  /**
   * The round trip of a WebSocket ping, answered by the server's WebSocket layer (pythond 0.4's
   * too) without a request, so it is not logged there nor queued behind a cell; rejects after ms.
   */
  ping(ms: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const tag = Buffer.from(String(t0 + Math.random()));
      const onPong = (p: Buffer) => {
        if (!p.equals(tag)) return;
        clearTimeout(timer);
        this.ws.off("pong", onPong);
        resolve(Date.now() - t0);
      };
      const timer = setTimeout(() => {
        this.ws.off("pong", onPong);
        reject(new ConnectError(`no answer to a ping within ${ms} ms`));
      }, ms);
      this.ws.on("pong", onPong);
      this.ws.ping(tag);
    });
  }

  /** Send a raw frame (attach mode: binary keystrokes, text resize/detach messages). */
  sendRaw(data: Buffer | string): void {
    if (this.legacy) this.legacy.sendRaw(data);
    else if (this.ws.isOpen) this.ws.send(data);
  }

  close(): void {
    this.ws.close(1000);
  }
}
