// The daemon's handle on one session agent: starting or adopting it, sending cells and
// control requests, routing its output/done events to whoever waits on each cell.
import { connect, type Socket } from "node:net";
import { unlinkSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { randomHex } from "../util/random.js";
import { Link, type Reply } from "../link/link.js";
import type { Frame } from "../link/frame.js";
import { startAgent } from "../bootstrap/spawn.js";
import { rememberCode } from "../bootstrap/code-cache.js";
import { Checkpoint, LOG_OUTPUT_LIMIT } from "./checkpoint.js";
import { sessionStateDir, agentSocketName } from "../util/paths.js";

export const STDOUT = 1;
export const STDERR = 2;

export interface CellError {
  type: string;
  message: string;
  traceback: string;
}

/** What the agent reports when a cell ends (agent/pythond_agent/cells.py Cell.result). */
export interface CellResult {
  cell_id: string;
  seq: number;
  mode: string;
  origin: string;
  state: string;
  started_at: number | null;
  duration: number | null;
  ok: boolean | null;
  value: string | null;
  error: CellError | null;
  bytes: number;
  dropped: number;
  code?: string;
}

export interface CellListener {
  output?(stream: number, data: Buffer): void;
  done?(result: CellResult): void;
  /** The agent died (or the daemon lost it) before the cell finished. */
  lost?(reason: string): void;
}

interface CellWatch {
  code: string;
  mode: string;
  listeners: Set<CellListener>;
  log: Buffer[];
  logBytes: number;
  logDropped: number;
}

export interface Hello {
  name: string;
  pid: number;
  python: string;
  executable: string;
  cwd: string;
  started: number;
  socket: string;
}

export interface SpawnSessionOptions {
  name: string;
  python: string;
  agentDir: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  maxOutput: number;
  timeoutMs?: number;
}

/** The session's agent is gone; the message is pythond 0.4's ("session 'w' dead -- new w to restart"). */
export class SessionDeadError extends Error {
  override name = "SessionDeadError";
}

export function newCellId(): string {
  return randomHex(6);
}

function connectUnix(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export class Session {
  state: "alive" | "dead" = "alive";
  deathReason = "";
  lastActivity = Date.now();
  /** Set before a deliberate kill (e.g. interrupt escalation): becomes the death reason. */
  killNote?: string;
  /** How this session was started (undefined for an agent adopted from a previous daemon). */
  spawnOptions?: SpawnSessionOptions;
  checkpoint: Checkpoint;
  private readonly watches = new Map<string, CellWatch>();
  private readonly deathListeners = new Set<(reason: string) => void>();
  private link!: Link;
  private sock?: Socket;
  private child?: ChildProcess;
  private exitNote = "";
  /** Set by the attach feature: PTY screen bytes from the agent; `end` is the byte offset after them. */
  onScreen?: (data: Buffer, end: number) => void;

  private constructor(readonly info: Hello) {
    this.checkpoint = new Checkpoint(info.name);
  }

  get name(): string {
    return this.info.name;
  }
  get pid(): number {
    return this.info.pid;
  }

  static async spawn(opts: SpawnSessionOptions): Promise<Session> {
    const socketFile = join(opts.agentDir, agentSocketName(randomHex(4)));
    const started = await startAgent(
      [opts.python],
      { mode: "session", name: opts.name, socket: socketFile, max_output: opts.maxOutput, cwd: opts.cwd, images_dir: join(sessionStateDir(opts.name), "images") },
      { env: opts.env, cwd: opts.cwd, detached: true, endInput: true, timeoutMs: opts.timeoutMs ?? 15_000 },
    );
    const child = started.child;
    const hello = await new Promise<Hello>((resolve, reject) => {
      const boot = new Link(started.stdout, undefined, {
        onEvent: (f) => {
          if (f.header.k === "code") return rememberCode(started.codeKey, f);
          if (f.header.k === "hello") resolve(f.header as unknown as Hello);
          else reject(new Error(`agent failed: ${String(f.header.type)}: ${String(f.header.message)}`));
          boot.shutdown(null); // settles first: its onClose would reject
        },
        onClose: (err) => reject(new Error(`agent closed before its hello: ${err?.message ?? "EOF"}; ${started.stderr.text()}`)),
      });
      boot.receive(started.rest);
    });
    child.stderr?.destroy();
    child.unref();
    const session = await Session.attach(hello.socket, opts.timeoutMs ?? 15_000);
    session.child = child;
    session.spawnOptions = opts;
    child.once("exit", (code, signal) => {
      session.exitNote = signal ? `killed by ${signal}` : `exited with status ${code}`;
    });
    return session;
  }

  /** Connect to a live agent's private socket (a new session, or one a previous daemon left). */
  static async attach(socketFile: string, timeoutMs = 5000): Promise<Session> {
    const sock = await connectUnix(socketFile, timeoutMs);
    return new Promise<Session>((resolve, reject) => {
      let session: Session | undefined;
      const timer = setTimeout(() => {
        link.shutdown(new Error("agent sent no hello"));
      }, timeoutMs);
      const link = new Link(sock, sock, {
        onEvent: (f) => {
          if (!session) {
            clearTimeout(timer);
            if (f.header.k !== "hello") {
              link.shutdown(new Error(`agent sent ${String(f.header.k)} before hello`));
              return;
            }
            session = new Session(f.header as unknown as Hello);
            session.link = link;
            session.sock = sock;
            // Our first request makes us the agent's controller (its events come to us).
            link.request("adopt", {}, [], { timeoutMs }).then(() => resolve(session!), reject);
            return;
          }
          session.onEvent(f);
        },
        onClose: (err) => {
          clearTimeout(timer);
          if (session) session.onLinkClosed(err);
          else reject(err ?? new Error("agent closed the connection before its hello"));
        },
      });
    });
  }

  private onEvent(f: Frame): void {
    const h = f.header;
    const cellId = h.c as string | null;
    const watch = cellId ? this.watches.get(cellId) : undefined;
    if (h.ev === "screen") {
      this.onScreen?.(f.blobs[0] ?? Buffer.alloc(0), Number(h.o));
      return;
    }
    if (h.ev === "out") {
      if (!watch) return;
      const data = f.blobs[0] ?? Buffer.alloc(0);
      const stream = Number(h.s);
      if (watch.logBytes < LOG_OUTPUT_LIMIT) {
        const keep = data.subarray(0, LOG_OUTPUT_LIMIT - watch.logBytes);
        watch.log.push(Buffer.from(keep));
        watch.logBytes += keep.length;
        watch.logDropped += data.length - keep.length;
      } else watch.logDropped += data.length;
      for (const l of watch.listeners) l.output?.(stream, data);
    } else if (h.ev === "done") this.cellEnded(h as unknown as CellResult);
  }

  /** A cell's done record arrived (as an event, or as the reply to a waiting exec). */
  private cellEnded(result: CellResult): void {
    this.lastActivity = Date.now();
    const watch = this.watches.get(result.cell_id);
    this.watches.delete(result.cell_id);
    if (watch) for (const l of watch.listeners) l.done?.(result);
    const code = watch?.code ?? result.code;
    if (code === undefined || watch?.mode === "replay") return;
    // After the listeners: the reply to the client leaves before the checkpoint files are written.
    const output = watch ? Buffer.concat(watch.log).toString("utf8") : "";
    const dropped = watch?.logDropped ?? 0;
    setImmediate(() => this.checkpoint.record(code, result.ok === true, output, dropped));
  }

  private onLinkClosed(err: Error | null): void {
    if (this.state === "dead") return;
    this.state = "dead";
    // The child's exit event may trail the socket close by a moment.
    setTimeout(() => {
      this.deathReason = this.killNote || this.exitNote || (err ? err.message : "agent closed its connection");
      const reason = `session '${this.name}' dead (${this.deathReason}) -- new ${this.name} to restart`;
      for (const [, w] of this.watches) for (const l of w.listeners) l.lost?.(reason);
      this.watches.clear();
      this.deathMessage = reason;
      for (const f of this.deathListeners) f(reason);
    }, this.child ? 30 : 0);
  }

  /** The full death message (with its reason) once known; a moment after the link closes. */
  private deathMessage?: string;

  /** The death message with its reason: the link can close (a cell crashed the agent at once)
   * before the exit status is known, so wait briefly for it rather than report no reason. */
  private async deathError(): Promise<Error> {
    if (this.deathMessage) return new SessionDeadError(this.deathMessage);
    const reason = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 1000);
      this.onDeath((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    return new SessionDeadError(reason ?? this.deadMessage());
  }

  onDeath(f: (reason: string) => void): void {
    this.deathListeners.add(f);
  }

  isDead(): boolean {
    return this.state === "dead";
  }

  deadMessage(): string {
    return `session '${this.name}' dead -- new ${this.name} to restart`;
  }

  /** Queue a cell; the listener sees its output and end. Resolves once the agent accepted it. */
  async exec(code: string, mode: "run" | "fire" | string, listener?: CellListener, cellId = newCellId()): Promise<{ cell_id: string; seq: number }> {
    if (this.state === "dead") throw new SessionDeadError(this.deadMessage());
    this.lastActivity = Date.now();
    const watch: CellWatch = { code, mode, listeners: new Set(listener ? [listener] : []), log: [], logBytes: 0, logDropped: 0 };
    this.watches.set(cellId, watch);
    try {
      const reply = await this.link.request("exec", { cell: cellId, mode }, [Buffer.from(code, "utf8")]);
      return reply.result;
    } catch (e) {
      this.watches.delete(cellId);
      throw this.isDead() ? await this.deathError() : e;
    }
  }

  /**
   * Run a cell and wait for its end: the agent answers the exec request with the cell's done
   * record (one frame per cell). Output goes to `output` as it is produced; rejects if the
   * session dies first.
   */
  async run(code: string, mode: "run" | "replay" | string, output?: CellListener["output"], cellId = newCellId()): Promise<CellResult> {
    if (this.state === "dead") throw new SessionDeadError(this.deadMessage());
    this.lastActivity = Date.now();
    // An agent started by an older pythond (re-adopted after an upgrade) does not know "wait":
    // it acknowledges at once and reports the end as a done event, which this listener takes.
    let ended!: (r: CellResult) => void;
    let lost!: (e: Error) => void;
    const endedByEvent = new Promise<CellResult>((res, rej) => ((ended = res), (lost = rej)));
    endedByEvent.catch(() => {}); // awaited only on that path
    const listener: CellListener = { output, done: (r) => ended(r), lost: (reason) => lost(new SessionDeadError(reason)) };
    this.watches.set(cellId, { code, mode, listeners: new Set([listener]), log: [], logBytes: 0, logDropped: 0 });
    try {
      const reply = await this.link.request("exec", { cell: cellId, mode, wait: true }, [Buffer.from(code, "utf8")]);
      const result = reply.result as CellResult;
      if (result?.state !== "done" && result?.state !== "cancelled") return await endedByEvent;
      this.cellEnded(result);
      return result;
    } catch (e) {
      this.watches.delete(cellId);
      throw this.isDead() ? await this.deathError() : e;
    }
  }

  /** Rename a warm spare agent into session `name` (daemon/spare.ts); it has run no cell. */
  async claim(name: string, imagesDir: string): Promise<void> {
    const reply = await this.control("claim", { name, images_dir: imagesDir }, 5000);
    Object.assign(this.info, reply.result as Hello);
    this.checkpoint.close();
    this.checkpoint = new Checkpoint(this.info.name);
    if (this.spawnOptions) this.spawnOptions = { ...this.spawnOptions, name };
  }

  /** Follow a cell already running; false if the daemon is not tracking it (use poll). */
  watch(cellId: string, listener: CellListener): (() => void) | undefined {
    const w = this.watches.get(cellId);
    if (!w) return undefined;
    w.listeners.add(listener);
    return () => w.listeners.delete(listener);
  }

  async control(op: string, fields: Record<string, unknown> = {}, timeoutMs = 10_000, blobs: readonly Uint8Array[] = []): Promise<Reply> {
    if (this.state === "dead") throw new SessionDeadError(this.deadMessage());
    try {
      return await this.link.request(op, fields, blobs, { timeoutMs });
    } catch (e) {
      throw this.isDead() ? new SessionDeadError(this.deadMessage()) : e;
    }
  }

  /** End the agent: ask it, then TERM and KILL its process group; remove its socket. */
  async kill(): Promise<void> {
    this.checkpoint.close();
    const alive = () => {
      try {
        process.kill(this.pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (this.state === "alive") await this.link.request("kill", {}, [], { timeoutMs: 1000 }).catch(() => {});
    this.link.shutdown(null);
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-this.pid, sig);
      } catch {
        try {
          process.kill(this.pid, sig);
        } catch {
          /* gone */
        }
      }
    };
    const waitGone = async (ms: number) => {
      const until = Date.now() + ms;
      // An agent told to exit is usually gone (reaped) within a few ms: poll fast first, then
      // back off, so `new --replace` does not wait a fixed 20 ms tick for the old agent.
      for (let step = 2; alive() && Date.now() < until; step = Math.min(step * 2, 20)) await new Promise((r) => setTimeout(r, step));
      return !alive();
    };
    if (!(await waitGone(300))) {
      signalGroup("SIGTERM");
      if (!(await waitGone(3000))) {
        signalGroup("SIGKILL");
        await waitGone(1000);
      }
    } else signalGroup("SIGKILL"); // children left in its group
    try {
      unlinkSync(this.info.socket);
    } catch {
      /* already gone */
    }
    this.state = "dead";
    this.deathReason = this.killNote ?? "killed";
  }

  /** Flow control (daemon/backpressure.ts): stop/restart reading the agent's socket. */
  pauseInput(): void {
    this.sock?.pause();
  }
  resumeInput(): void {
    this.sock?.resume();
  }

  /** Drop the connection but leave the agent running (daemon restart). */
  detach(): void {
    this.state = "dead";
    this.deathReason = "detached";
    this.link.shutdown(null);
  }
}
