// Attach through a proxy: each local viewer holds one attach of its own on the remote daemon
// (a connection per viewer, as the structured protocol allows one attach per connection).
// Every such attach reports the same screen offsets, so the viewers' offset check
// (daemon/screen-viewers.ts) drops what two of them both deliver. A dropped connection
// re-attaches from the offset it reached (resumed: nothing lost, nothing doubled).
import type { Client } from "../client/client.js";
import { DaemonRequestError } from "../client/errors.js";
import { SCREEN_STREAM } from "../wire/structured.js";
import type { ScreenReplay, ScreenSize } from "../session/handle.js";
import type { RemoteLink } from "./link.js";
import { remoteError } from "./failure.js";

/** How long a Ctrl-D waits for the remote line editor to say it detached the viewer. */
const CTRL_D_WAIT_MS = 1000;

interface RemoteAttach {
  client: Client;
  /** Screen offset after the last byte received. */
  end: number;
  screen: string;
  /** Why the remote attach ended (undefined while it lasts). */
  ended?: string;
  onEnded?: (reason: string) => void;
  /** Closed by us (a viewer left): no re-attach. */
  dropped: boolean;
}

export class ProxyScreen {
  private readonly attaches: RemoteAttach[] = [];
  private readonly listeners = new Set<(data: Buffer, end: number) => void>();
  private size: ScreenSize = {};

  constructor(
    private readonly link: RemoteLink,
    private readonly remoteName: string,
    /** The remote session ended while attached: every viewer is told. */
    private readonly sessionEnded: (reason: string) => void,
  ) {}

  onScreen(f: (data: Buffer, end: number) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  async attach(opts: ScreenSize & { max: number; from?: number; screen?: string }): Promise<ScreenReplay> {
    if (opts.rows) this.size = { rows: opts.rows, cols: opts.cols };
    const a: RemoteAttach = { client: await this.link.extra(), end: 0, screen: "", dropped: false };
    this.attaches.push(a);
    try {
      return await this.start(a, { rows: opts.rows, cols: opts.cols, ...(opts.from !== undefined ? { from: opts.from, screen: opts.screen } : {}) });
    } catch (e) {
      this.drop(a);
      throw remoteError(e);
    }
  }

  /** Ask for the attach on a's connection; resolves with the replay, then live bytes flow to the listeners. */
  private start(a: RemoteAttach, fields: Record<string, unknown>): Promise<ScreenReplay> {
    return new Promise<ScreenReplay>((resolve, reject) => {
      let replayLeft = -1;
      const replay: Buffer[] = [];
      let offset = 0;
      let resumed = false;
      let settled = false;
      const settle = () => {
        settled = true;
        resolve({ replay: Buffer.concat(replay), offset, screen: a.screen, resumed });
      };
      const req = a.client.request(
        "attach",
        { session: this.remoteName, ...fields },
        {
          event: (name, f) => {
            if (name !== "attached") return;
            // A pythond 0.4 remote says nothing of offsets: its bytes are counted from here.
            offset = typeof f.offset === "number" ? f.offset : 0;
            replayLeft = typeof f.replay_bytes === "number" ? f.replay_bytes : 0;
            a.screen = typeof f.screen === "string" ? f.screen : "0";
            resumed = f.resumed === true;
            a.end = offset;
            if (replayLeft === 0) settle();
          },
          output: (stream, data) => {
            if (stream !== SCREEN_STREAM) return;
            if (!settled && replayLeft > 0) {
              const take = Math.min(replayLeft, data.length);
              replay.push(Buffer.from(data.subarray(0, take)));
              replayLeft -= take;
              if (replayLeft === 0) settle();
              data = data.subarray(take);
              if (!data.length) return;
            }
            if (!settled) settle(); // 0.4: its one scrollback frame came before any count
            a.end += data.length;
            for (const f of this.listeners) f(data, a.end);
          },
        },
      );
      req.then(
        (r) => this.ended(a, String((r as { reason?: string })?.reason ?? "detached")),
        (e) => {
          if (!settled) {
            settled = true;
            reject(e);
            return;
          }
          if (e instanceof DaemonRequestError && e.code === "session_dead") {
            this.ended(a, "session killed");
            this.sessionEnded(e.message);
          } else this.ended(a, "link lost");
        },
      );
    });
  }

  private ended(a: RemoteAttach, reason: string): void {
    a.ended = reason;
    a.onEnded?.(reason);
    if (reason === "link lost" && !a.dropped) void this.resume(a);
  }

  /** The connection under an attach dropped: attach again from where it stopped. */
  private async resume(a: RemoteAttach): Promise<void> {
    for (;;) {
      if (a.dropped) return;
      try {
        await this.link.ready();
        a.client = await this.link.extra();
        a.ended = undefined;
        const r = await this.start(a, { ...this.size, from: a.end, screen: a.screen });
        if (r.replay.length) for (const f of this.listeners) f(r.replay, r.offset);
        return;
      } catch {
        if (a.dropped) return;
        if (!(await this.link.ready().then(() => true, () => false))) {
          this.sessionEnded("the link to the remote daemon is down");
          return;
        }
      }
    }
  }

  /** The attach that takes keys and resizes: the newest one still running. */
  private current(): RemoteAttach | undefined {
    for (let i = this.attaches.length - 1; i >= 0; i--) if (!this.attaches[i].ended) return this.attaches[i];
    return undefined;
  }

  /** Keys to the remote PTY; true when its line editor detached the viewer (Ctrl-D). */
  async input(data: Buffer): Promise<boolean> {
    const a = this.current();
    if (!a) return false;
    a.client.sendRaw(data);
    if (!data.includes(0x04)) return false;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), CTRL_D_WAIT_MS);
      a.onEnded = (reason) => {
        clearTimeout(timer);
        resolve(reason === "ctrl-d");
      };
    });
  }

  resize(size: ScreenSize): void {
    this.size = size;
    this.current()?.client.sendRaw(JSON.stringify({ op: "resize", ...size }));
  }

  /** One viewer fewer: one ended attach is let go first, else the newest is detached. */
  detach(): void {
    const a = this.attaches.find((x) => x.ended && x.ended !== "link lost") ?? this.current() ?? this.attaches[this.attaches.length - 1];
    if (a) this.drop(a);
  }

  private drop(a: RemoteAttach): void {
    a.dropped = true;
    const i = this.attaches.indexOf(a);
    if (i >= 0) this.attaches.splice(i, 1);
    if (!a.ended) a.client.sendRaw(JSON.stringify({ op: "detach" }));
    setTimeout(() => a.client.close(), 200).unref();
  }

  /** Every remote attach let go (the proxy is dropped). */
  close(): void {
    for (const a of [...this.attaches]) this.drop(a);
  }
}
