// The page's one WebSocket to its server, kept open: a dropped connection (a pyctl restart, a
// laptop waking up, a network change) is opened again after a growing pause, and a connection
// that stops answering pings is treated as dropped.
const FIRST_RETRY_MS = 250;
const LONGEST_RETRY_MS = 5000;
const PING_EVERY_MS = 15_000;
const PONG_WITHIN_MS = 10_000;

export type ServerMessage = { t: string; [key: string]: any };

export interface ConnectionEvents {
  message(m: ServerMessage): void;
  screen(bytes: Uint8Array): void;
  state(s: "connecting" | "open" | "reconnecting", detail: string): void;
}

export class Connection {
  private ws: WebSocket | undefined;
  private retryMs = FIRST_RETRY_MS;
  private pingTimer: number | undefined;
  private pongTimer: number | undefined;

  constructor(private readonly on: ConnectionEvents) {}

  open(): void {
    this.on.state(this.ws ? "reconnecting" : "connecting", "");
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      if (typeof e.data !== "string") return this.on.screen(new Uint8Array(e.data as ArrayBuffer));
      let m: ServerMessage;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if (m.t === "pong") return clearTimeout(this.pongTimer);
      if (m.t === "ready") {
        this.retryMs = FIRST_RETRY_MS;
        this.on.state("open", "");
      }
      this.on.message(m);
    };
    ws.onclose = (e) => this.dropped(ws, e.code === 4001 ? "the daemon went away" : e.code === 4002 ? "no daemon answers" : "connection lost");
    this.pingTimer = window.setInterval(() => {
      this.send({ t: "ping" });
      clearTimeout(this.pongTimer);
      this.pongTimer = window.setTimeout(() => {
        // A dead link may take long to report its close: reconnect now, drop the old one.
        this.dropped(ws, "no answer");
        ws.close();
      }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  private dropped(ws: WebSocket, why: string): void {
    if (ws !== this.ws) return; // an older connection, already replaced
    ws.onmessage = ws.onclose = null; // its late events, if any, are not ours any more
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.on.state("reconnecting", why);
    setTimeout(() => this.open(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, LONGEST_RETRY_MS);
  }

  send(m: Record<string, unknown>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  sendKeys(bytes: Uint8Array): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }
}
