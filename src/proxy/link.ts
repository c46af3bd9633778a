// A proxy's connection to its remote daemon: one structured-protocol client (TLS, pins and
// token as client/remote.ts does them), kept up. When it drops, requests wait for the next
// one (each with a deadline) while it reconnects with backoff; a ping measures the round trip
// and finds a link that died without a close.
import { Client } from "../client/client.js";
import type { RemoteTarget } from "../client/remote.js";
import type { LinkInfo } from "../session/handle.js";
import { DaemonError } from "../daemon/errors.js";
import { linkFailure } from "./failure.js";

const CONNECT_TIMEOUT_MS = 10_000;
const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 5_000;
const PING_EVERY_MS = 5_000;
/** A ping unanswered this long: the link is taken for dead and made again. */
const PING_DEADLINE_MS = 10_000;
/** How long a request waits for a link that is down before it fails. */
export const READY_DEADLINE_MS = 30_000;

export class RemoteLink {
  private client: Client | undefined;
  private state: LinkInfo["state"] = "reconnecting";
  private since = Date.now();
  private lastError: string | null = null;
  private rtt: number | null = null;
  private backoff = BACKOFF_FIRST_MS;
  private retry: NodeJS.Timeout | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private waiters = new Set<() => void>();
  private readonly upListeners = new Set<(c: Client) => void>();

  private constructor(readonly target: RemoteTarget, private readonly token: string) {}

  /**
   * First contact (pyctl connect): connect and ask the remote who it is, failing with the exact
   * reason (auth, pin, refused, timeout, TLS). With keep, a link that fails is kept and retried.
   */
  static async open(target: RemoteTarget, token: string, keep = false): Promise<RemoteLink> {
    const link = new RemoteLink(target, token);
    try {
      await link.connectOnce();
    } catch (e) {
      if (!keep) throw e;
      link.down(e);
    }
    return link;
  }

  /** A link made in the background (a stored proxy at daemon start): retried until it is up. */
  static background(target: RemoteTarget, token: string): RemoteLink {
    const link = new RemoteLink(target, token);
    link.connectOnce().catch((e) => link.down(e));
    return link;
  }

  get address(): string {
    return this.target.name;
  }

  get isLegacy(): boolean {
    return this.client?.isLegacy ?? false;
  }

  info(): LinkInfo {
    return {
      address: this.target.name,
      tls: this.target.tls,
      state: this.state,
      since: this.since / 1000,
      last_error: this.lastError,
      rtt_ms: this.rtt,
      protocol: this.client?.isLegacy ? "pythond.0.4" : "pythond.json.1",
    };
  }

  /** Called with each new connection (the screen re-attaches through it). */
  onUp(f: (c: Client) => void): () => void {
    this.upListeners.add(f);
    return () => this.upListeners.delete(f);
  }

  /** The connection, waiting (at most ms) for the next one while it is down. */
  async ready(ms = READY_DEADLINE_MS): Promise<Client> {
    if (this.state === "closed") throw new DaemonError("unreachable", `proxy to ${this.address} is disconnected`);
    if (this.client && this.state === "connected") return this.client;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
    if (this.client && this.state === "connected") return this.client;
    throw new DaemonError("unreachable", `remote ${this.address} unreachable (reconnecting since ${new Date(this.since).toISOString()}${this.lastError ? `; last error: ${this.lastError}` : ""})`);
  }

  /** A connection of its own (attach holds one per viewer), checked like the link's. */
  async extra(): Promise<Client> {
    try {
      return await Client.connectTo(this.target, this.token, CONNECT_TIMEOUT_MS);
    } catch (e) {
      throw linkFailure(this.address, e);
    }
  }

  private async connectOnce(): Promise<void> {
    let c: Client;
    try {
      c = await Client.connectTo(this.target, this.token, CONNECT_TIMEOUT_MS);
      // The token is checked after the upgrade: a first answer proves it (and times the link).
      const t0 = Date.now();
      await withDeadline(c.request(c.isLegacy ? "ls" : "hello"), CONNECT_TIMEOUT_MS, () => c.close());
      this.rtt = Date.now() - t0;
    } catch (e) {
      throw linkFailure(this.address, e);
    }
    if (this.state === "closed") {
      c.close();
      return;
    }
    this.client = c;
    this.state = "connected";
    this.since = Date.now();
    this.backoff = BACKOFF_FIRST_MS;
    void c.closed.then((e) => {
      if (this.client === c && this.state !== "closed") this.down(e);
    });
    this.startPings(c);
    for (const w of [...this.waiters]) w();
    for (const f of this.upListeners) f(c);
  }

  private down(e: unknown): void {
    if (this.state === "closed") return;
    clearInterval(this.pinger);
    this.client = undefined;
    if (this.state !== "reconnecting") this.since = Date.now();
    this.state = "reconnecting";
    this.lastError = linkFailure(this.address, e).message;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.connectOnce().catch((err) => this.down(err));
    }, this.backoff);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
  }

  /** WebSocket pings (not requests: nothing in the remote's access log, nothing queued behind a cell). */
  private startPings(c: Client): void {
    clearInterval(this.pinger);
    this.pinger = setInterval(() => {
      c.ping(PING_DEADLINE_MS).then(
        (ms) => (this.rtt = ms),
        () => c.close(), // silent: given up, made again
      );
    }, PING_EVERY_MS);
    this.pinger.unref();
  }

  /** Drop the link for good (disconnect, or the daemon stopping). */
  close(): void {
    this.state = "closed";
    this.since = Date.now();
    clearTimeout(this.retry);
    clearInterval(this.pinger);
    this.client?.close();
    this.client = undefined;
    for (const w of [...this.waiters]) w();
  }
}

/** p, or a timeout error after ms (then onTimeout runs: the connection is given up). */
function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(Object.assign(new Error("timed out waiting for the remote daemon"), { code: "ETIMEDOUT" }));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
