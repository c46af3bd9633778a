// A session whose agent this daemon controls (a SessionHandle, handle.ts): the daemon's link to
// one agent, on this host or on another one (how it is reached, regained and ended: reach.ts,
// via-reach.ts). Starting or adopting it, sending cells and the agent link's session ops (one
// typed method each: no other TypeScript file names them), routing its output/done events to
// whoever waits on each cell, acknowledging them. The local process side is agent-process.ts.
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { randomHex } from "../util/random.js";
import { Link, LinkTimeoutError, type Reply } from "../link/link.js";
import type { Frame } from "../link/frame.js";
import { lastWords, startSessionAgent, STDOUT, STDERR, type SpawnSessionOptions } from "./agent-process.js";
import { localReach, type AgentReach, type AgentStream } from "./reach.js";
export { STDOUT, STDERR, type SpawnSessionOptions } from "./agent-process.js";
import { Checkpoint, LOG_OUTPUT_LIMIT } from "./checkpoint.js";
import { agentSocketName } from "../util/paths.js";
import { openAgentLink, type Hello } from "./agent-link.js";
import type { SessionHandle, CellResult, CellListener, LostCell, PolledCell, BackgroundOutput, ScreenSize, ScreenReplay } from "./handle.js";
export type { CellError, CellResult, CellListener, LostCell, PolledCell, BackgroundOutput, ScreenSize, ScreenReplay } from "./handle.js";
import { keyPathOf, readKey, type AgentKey, type SessionSettings } from "./agent-key.js";

export type { Hello } from "./agent-link.js";
export type { SessionSettings } from "./agent-key.js";


interface CellWatch {
  code: string;
  mode: string;
  listeners: Set<CellListener>;
  log: Buffer[];
  logBytes: number;
  logDropped: number;
}


/** Lost cells kept per dead session for poll (their output is capped like session.log's). */
const LOST_CELLS_KEPT = 16;


/** At most this many regained links per minute: past that, something else keeps taking the agent. */
const MAX_REGAINS_PER_MIN = 3;

/** How long a new request waits for a remote session's dropped link to come back. */
const REJOIN_WAIT_MS = 30_000;

/** Acknowledge the agent's numbered events (resend.py) after this many, or this long after one. */
const ACK_EVERY = 64;
const ACK_AFTER_MS = 100;


/** The session's agent is gone (or out of this daemon's reach); the message says why and what to do. */
export class SessionDeadError extends Error {
  override name = "SessionDeadError";
}

export function newCellId(): string {
  return randomHex(6);
}


export class Session implements SessionHandle {
  /** "lost": the agent lives on but this daemon could not regain its link (never called dead). */
  state: "alive" | "dead" | "lost" = "alive";
  deathReason = "";
  lastActivity = Date.now();
  /** Set before a deliberate kill (e.g. interrupt escalation): becomes the death reason. */
  killNote?: string;
  /** How this session was started (undefined for an agent adopted from a previous daemon). */
  spawnOptions?: SpawnSessionOptions;
  /** What `new` was given (from the key file for an adopted agent): what restart reuses. */
  settings: SessionSettings = {};
  checkpoint: Checkpoint;
  private readonly watches = new Map<string, CellWatch>();
  /** Cells in flight when the agent died, newest last (poll of a dead session). */
  readonly lostCells = new Map<string, LostCell>();
  /** How the agent is reached: its local socket, or a relay through a command prefix. */
  private reach!: AgentReach;
  /** The number of the last event received (resend.py), and how many are not acknowledged. */
  private lastEvent = 0;
  private unacked = 0;
  private ackTimer?: NodeJS.Timeout;
  /** A regain found the agent's keeper instead of its interpreter (which ended). */
  private interpreterEnded = false;
  /** Why the last attempt to regain a remote link failed (for the messages meanwhile). */
  private regainNote = "";
  /** Output of no cell the keeper handed over at the agent's death. */
  lastBackground: { stream: number; data: Buffer }[] = [];
  /** Per stream, the offset after the last byte of output received (frames' "o"). */
  private readonly received: Record<number, number> = { [STDOUT]: 0, [STDERR]: 0 };
  private readonly deathListeners = new Set<(reason: string) => void>();
  private link!: Link;
  private stream?: AgentStream;
  private child?: ChildProcess;
  private exitNote = "";
  /** The agent's secret (hex), proved on every connection to its socket. */
  private secret?: string;
  /** Set when we end the link on purpose (kill, detach): its close is no loss, and there are
   * no last words to collect. */
  private closing = false;
  /** While a dropped link is being regained: resolves true if it was. */
  private regaining?: Promise<boolean>;
  private regainTimes: number[] = [];
  private inputPauses = 0;
  private replacedNote = false;
  /** Who follows the PTY's screen bytes (attach viewers); `end` is the byte offset after them. */
  private readonly screenListeners = new Set<(data: Buffer, end: number) => void>();

  private constructor(readonly info: Hello) {
    this.checkpoint = new Checkpoint(info.name);
  }

  get name(): string {
    return this.info.name;
  }
  get pid(): number {
    return this.info.pid;
  }
  /** "local", or where the agent runs (e.g. "ssh web01"). */
  get where(): string {
    return this.reach.where;
  }

  static async spawn(opts: SpawnSessionOptions): Promise<Session> {
    const socketFile = join(opts.agentDir, agentSocketName(randomHex(4)));
    // The secret goes to the agent over the bootstrap pipe and into the 0600 key file (for a
    // daemon that re-adopts the agent); never into argv, env or a log.
    const secret = randomHex(32);
    const settings = opts.settings ?? { python: opts.python, cwd: opts.cwd };
    const { child, hello } = await startSessionAgent(opts, socketFile, secret, settings);
    child.stderr?.destroy();
    child.unref();
    const session = await Session.attach(hello.socket, opts.timeoutMs ?? 15_000, { secret, settings });
    session.child = child;
    session.spawnOptions = opts;
    child.once("exit", (code, signal) => {
      session.exitNote = signal ? `killed by ${signal}` : `exited with status ${code}`;
    });
    return session;
  }

  /** Become the controller of a live agent (a new session, or one a previous daemon left);
   * its key file gives the secret to prove, unless the caller has it. */
  static async attach(socketFile: string, timeoutMs = 5000, given?: AgentKey, reach: AgentReach = localReach(socketFile)): Promise<Session> {
    let key = given;
    let keyError = "";
    if (!key) {
      try {
        key = readKey(keyPathOf(socketFile));
      } catch (e) {
        keyError = (e as NodeJS.ErrnoException).code === "ENOENT" ? `${keyPathOf(socketFile)} is missing` : (e as Error).message;
      }
    }
    const secret = () => {
      if (key) return key.secret;
      throw new Error(`cannot prove this daemon owns the agent at ${socketFile}: ${keyError}`);
    };
    let session: Session | undefined;
    const opened = await openAgentLink(reach, secret, timeoutMs, {
      hello: (h) => {
        session = new Session(h);
        session.reach = reach;
        session.secret = key?.secret;
        session.settings = key?.settings ?? {};
      },
      event: (f) => session!.onEvent(f),
      closed: (err) => session!.onLinkClosed(err),
    });
    session!.link = opened.link;
    session!.stream = opened.stream;
    session!.resumes = opened.hello.resume === 1;
    session!.lastEvent = Math.max(session!.lastEvent, opened.lastEvent ?? 0); // what came before us is not ours
    return session!;
  }

  /** The agent numbers its events (resend.py): acknowledge them, drop any seen twice. */
  private resumes = false;

  private onEvent(f: Frame): void {
    const h = f.header;
    if (typeof h.q === "number") {
      if (h.q <= this.lastEvent) return; // sent again after a drop, but it had arrived
      this.lastEvent = h.q;
      if (++this.unacked >= ACK_EVERY) this.ack();
      else this.ackTimer ??= setTimeout(() => this.ack(), ACK_AFTER_MS);
    }
    if (h.ev === "gap") {
      const note = Buffer.from(`\n[pythond: output sent while the link was down was more than the agent keeps for resending; poll has all of it]\n`);
      for (const w of this.watches.values()) this.deliver(w, STDERR, note);
      return;
    }
    const cellId = h.c as string | null;
    const watch = cellId ? this.watches.get(cellId) : undefined;
    if (h.ev === "replaced") {
      this.replacedNote = true; // another peer proved our secret and took the agent
      return;
    }
    if (h.ev === "screen") {
      const data = f.blobs[0] ?? Buffer.alloc(0);
      for (const l of this.screenListeners) l(data, Number(h.o));
      return;
    }
    if (h.ev === "out") {
      const data = f.blobs[0] ?? Buffer.alloc(0);
      const stream = Number(h.s);
      if (typeof h.o === "number" && stream in this.received) this.received[stream] = Math.max(this.received[stream], h.o + data.length);
      if (watch) this.deliver(watch, stream, data);
    } else if (h.ev === "done") this.cellEnded(h as unknown as CellResult);
  }

  private ack(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.unacked = 0;
    if (this.resumes && this.state === "alive") this.link.send({ k: "ack", q: this.lastEvent });
  }

  /** Output of a watched cell: to its session.log entry (capped) and its listeners. */
  private deliver(watch: CellWatch, stream: number, data: Buffer): void {
    if (watch.logBytes < LOG_OUTPUT_LIMIT) {
      const keep = data.subarray(0, LOG_OUTPUT_LIMIT - watch.logBytes);
      watch.log.push(Buffer.from(keep));
      watch.logBytes += keep.length;
      watch.logDropped += data.length - keep.length;
    } else watch.logDropped += data.length;
    for (const l of watch.listeners) l.output?.(stream, data);
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
    if (this.state !== "alive") return;
    if (this.closing) return this.declareDead(err); // the kill we asked for (killNote says why)
    // Never call a live session dead: if the agent lives, take its link back (we hold the secret).
    const now = Date.now();
    this.regainTimes = this.regainTimes.filter((t) => now - t < 60_000);
    // A remote link drops with its transport (a network, a killed ssh): take it back as often
    // as that happens, unless another holder of the secret took the agent from us.
    const often = this.reach.remote && !this.replacedNote;
    if (this.reach.mayLive(this.pid) && (often || this.regainTimes.length < MAX_REGAINS_PER_MIN)) {
      this.regainTimes.push(now);
      const why = this.replacedNote ? "another peer holding the session's secret took the agent" : (err?.message ?? "the agent closed the link");
      this.replacedNote = false;
      this.regaining = this.regain().then((ok) => {
        this.regaining = undefined;
        if (!ok) this.declareGone(new Error(why));
        return ok;
      });
      return;
    }
    this.declareGone(err);
  }

  /** Connect again to our agent (same pid), prove the secret, become its controller again;
   * it first sends the events we missed (after `lastEvent`). */
  private async regain(): Promise<boolean> {
    for (const delay of this.reach.regainDelays()) {
      if (delay) await new Promise((r) => setTimeout(r, delay));
      if (this.closing) return false;
      try {
        const opened = await openAgentLink(this.reach, () => this.secret ?? "", this.reach.remote ? 15_000 : 3000, {
          hello: (h) => {
            if ((h as { last?: boolean }).last === true) {
              // Its keeper answers: the interpreter ended, and the last words wait for us.
              this.interpreterEnded = true;
              throw new Error(`the agent's interpreter (pid ${this.pid}) ended`);
            }
            if (h.pid !== this.pid) throw new Error(`another agent (pid ${h.pid}) answers at ${this.info.socket}`);
          },
          event: (f) => this.onEvent(f),
          closed: (e) => {
            if (this.link === opened.link) this.onLinkClosed(e);
          },
        }, this.lastEvent);
        if (this.closing) {
          opened.link.shutdown(null);
          return false;
        }
        this.link = opened.link;
        this.stream = opened.stream;
        this.lastEvent = Math.max(this.lastEvent, opened.lastEvent ?? 0);
        this.regainNote = "";
        this.pauseStream();
        return true;
      } catch (e) {
        this.regainNote = (e as Error).message;
        if (this.interpreterEnded || !this.reach.mayLive(this.pid)) return false;
      }
    }
    return false;
  }

  /** Before a request: wait for a dropped link to come back (for a remote one, not forever). */
  private async linkReady(): Promise<void> {
    if (!this.regaining) return;
    if (!this.reach.remote) {
      await this.regaining;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), REJOIN_WAIT_MS)));
    const got = await Promise.race([this.regaining, late]);
    clearTimeout(timer);
    if (got === "late") {
      const why = this.regainNote ? ` (last attempt: ${this.regainNote})` : "";
      throw new SessionDeadError(`session '${this.name}' on ${this.where}: its link dropped and is being re-joined${why}; its cells keep running -- try again`);
    }
  }

  /** The link is gone for good: dead if the agent is, else "lost" (its namespace lives on). */
  private declareGone(err: Error | null): void {
    if (this.state !== "alive") return;
    if (this.reach.mayLive(this.pid) && !this.interpreterEnded && !this.exitNote && !this.killNote) {
      this.state = "lost";
      this.deathReason = `its agent (pid ${this.pid}) is alive, but this daemon lost its link: ${err?.message ?? "closed"}`;
      this.announceGone(
        `session '${this.name}' unreachable (${this.deathReason}) -- pyctl restart re-adopts it with its namespace`,
      );
      return;
    }
    this.declareDead(err);
  }

  private declareDead(err: Error | null): void {
    this.state = "dead";
    void this.die(err);
  }

  /**
   * The agent is gone: first what it wrote last (its keeper drains the capture pipes after the
   * interpreter died and hands that over with the exit status), then the death, so a caller
   * sees a crashing cell's output before the error.
   */
  private async die(err: Error | null): Promise<void> {
    const last = this.closing ? undefined : await lastWords(this.reach, this.reach.remote ? 15_000 : 2000, this.secret);
    if (last) {
      const watch = last.cell ? this.watches.get(last.cell) : undefined;
      for (const chunk of last.chunks) {
        const { stream } = chunk;
        // Bytes the interpreter wrote to us just before it died may still be in its pipes.
        const seen = chunk.offset >= 0 ? Math.max(0, this.received[stream] - chunk.offset) : 0;
        const data = chunk.data.subarray(Math.min(seen, chunk.data.length));
        if (!data.length) continue;
        if (watch) this.deliver(watch, stream, data);
        else this.lastBackground.push({ stream, data });
      }
    } else if (this.child && !this.exitNote) {
      await new Promise((r) => setTimeout(r, 30)); // an old agent: its exit event may trail the close
    }
    this.deathReason = this.killNote || last?.reason || this.exitNote || (err ? err.message : "agent closed its connection");
    const reason = this.deadMessage();
    for (const [cellId, w] of this.watches) {
      this.lostCells.set(cellId, { cell_id: cellId, mode: w.mode, output: Buffer.concat(w.log), reason });
      if (w.mode !== "replay" && !this.closing) {
        const output = Buffer.concat(w.log).toString("utf8") + `\n[pythond: ${reason}]`;
        this.checkpoint.record(w.code, false, output, w.logDropped);
      }
    }
    while (this.lostCells.size > LOST_CELLS_KEPT) this.lostCells.delete(this.lostCells.keys().next().value as string);
    if (this.lastBackground.length && !this.closing) {
      const text = Buffer.concat(this.lastBackground.map((c) => c.data)).toString("utf8");
      this.checkpoint.record("# (output of no cell, written before the session died)", false, text + `\n[pythond: ${reason}]`);
    }
    this.announceGone(reason);
  }

  private announceGone(message: string): void {
    for (const [, w] of this.watches) for (const l of w.listeners) l.lost?.(message);
    this.watches.clear();
    this.deathMessage = message;
    for (const f of this.deathListeners) f(message);
  }

  /** After a dropped link: true once it was regained (the agent kept our cells), false if not. */
  private async regained(): Promise<boolean> {
    return this.regaining ? await this.regaining : false;
  }

  /** The full death message (with its reason) once known; a moment after the link closes. */
  private deathMessage?: string;

  /** The death message with its reason: the link can close (a cell crashed the agent at once)
   * before the exit status is known, so wait briefly for it rather than report no reason. */
  private async deathError(): Promise<Error> {
    if (this.deathMessage) return new SessionDeadError(this.deathMessage);
    const reason = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 3000);
      this.onDeath((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    return new SessionDeadError(reason ?? this.deadMessage());
  }

  /** Call f with the death message once the session is gone; returns what stops that. */
  onDeath(f: (reason: string) => void): () => void {
    this.deathListeners.add(f);
    return () => this.deathListeners.delete(f);
  }

  /** Follow the PTY's screen bytes as the agent sends them; returns what stops that. */
  onScreen(f: (data: Buffer, end: number) => void): () => void {
    this.screenListeners.add(f);
    return () => this.screenListeners.delete(f);
  }

  /** Not usable through this daemon: its agent is dead, or alive but out of reach ("lost"). */
  isDead(): boolean {
    return this.state !== "alive";
  }

  /** Why the session cannot be used, with the one thing to do that keeps what can be kept. */
  deadMessage(): string {
    if (this.deathMessage) return this.deathMessage;
    const why = this.deathReason ? ` (${this.deathReason})` : "";
    return `session '${this.name}' dead${why} -- pysh restart ${this.name} starts it again with the same --python, --cwd and --env`;
  }

  /** Queue a cell; the listener sees its output and end. Resolves once the agent accepted it. */
  async exec(code: string, mode: "run" | "fire" | string, listener?: CellListener, cellId = newCellId()): Promise<{ cell_id: string; seq: number }> {
    await this.linkReady(); // a dropped link is being taken back: use the new one
    if (this.isDead()) throw new SessionDeadError(this.deadMessage());
    this.lastActivity = Date.now();
    const watch: CellWatch = { code, mode, listeners: new Set(listener ? [listener] : []), log: [], logBytes: 0, logDropped: 0 };
    this.watches.set(cellId, watch);
    try {
      const reply = await this.link.request("exec", { cell: cellId, mode }, [Buffer.from(code, "utf8")]);
      return reply.result;
    } catch (e) {
      // The link dropped and was regained: the agent may have taken the cell before it did.
      const again = await this.regained();
      const rec = again ? await this.cellRecord(cellId) : undefined;
      if (rec) return { cell_id: cellId, seq: rec.seq };
      // A death is reported after its last words, which go to this cell's watch (die()).
      if (!again && this.isDead()) throw await this.deathError();
      this.watches.delete(cellId);
      if (again) return this.exec(code, mode, listener, cellId); // it never got there: send it again
      throw e;
    }
  }

  /**
   * Run a cell and wait for its end: the agent answers the exec request with the cell's done
   * record (one frame per cell). Output goes to `output` as it is produced; rejects if the
   * session dies first.
   */
  async run(code: string, mode: "run" | "replay" | string, output?: CellListener["output"], cellId = newCellId(), stdin?: string): Promise<CellResult> {
    await this.linkReady(); // a dropped link is being taken back: use the new one
    if (this.isDead()) throw new SessionDeadError(this.deadMessage());
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
      const blobs = [Buffer.from(code, "utf8")];
      if (stdin !== undefined) blobs.push(Buffer.from(stdin, "utf8")); // the cell's sys.stdin
      const reply = await this.link.request("exec", stdin === undefined ? { cell: cellId, mode, wait: true } : { cell: cellId, mode, wait: true, stdin: true }, blobs);
      const result = reply.result as CellResult;
      if (result?.state !== "done" && result?.state !== "cancelled") return await endedByEvent;
      this.cellEnded(result);
      return result;
    } catch (e) {
      // The link dropped and was regained: the cell lives on in the agent (or already ended).
      const again = await this.regained();
      // Its done record came again as an event, after the output we had missed (resend.py).
      if (again && !this.watches.has(cellId)) return await endedByEvent;
      const rec = again ? await this.cellRecord(cellId) : undefined;
      if (rec && (rec.state === "done" || rec.state === "cancelled")) {
        this.cellEnded(rec);
        return rec;
      }
      if (rec) return await endedByEvent;
      // A death is reported after its last words, which go to this cell's watch (die()).
      if (!again && this.isDead()) throw await this.deathError();
      this.watches.delete(cellId);
      if (again) return this.run(code, mode, output, cellId, stdin); // it never got there: send it again
      throw e;
    }
  }

  /** What the agent knows of a cell (its poll record), or undefined if it never got it. */
  private async cellRecord(cellId: string): Promise<CellResult | undefined> {
    try {
      const r = (await this.link.request("poll", { cell: cellId }, [], { timeoutMs: 5000 })).result as CellResult;
      return r.state === "unknown" || r.state === "evicted" ? undefined : r;
    } catch {
      return undefined;
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
    await this.linkReady(); // a dropped link is being taken back: use the new one
    if (this.isDead()) throw new SessionDeadError(this.deadMessage());
    try {
      return await this.link.request(op, fields, blobs, { timeoutMs });
    } catch (e) {
      if (await this.regained()) return await this.link.request(op, fields, blobs, { timeoutMs });
      throw this.isDead() ? await this.deathError() : e;
    }
  }

  // The agent link's session ops (docs/PROTOCOL.md "Agent link"), one typed method each: no
  // other TypeScript file names them.

  /** The executor's state, queue and memory (answered at once, even while a cell runs). */
  async status(timeoutMs = 10_000): Promise<Record<string, any>> {
    return (await this.control("status", {}, timeoutMs)).result;
  }

  /** The namespace's names (with reprs if asked). */
  async vars(reprs = false): Promise<Record<string, any>> {
    return (await this.control("vars", reprs ? { reprs: true } : {})).result;
  }

  async complete(text: string): Promise<Record<string, any>> {
    return (await this.control("complete", { text })).result;
  }

  /** The agent's cell records, newest last. */
  async cells(): Promise<Record<string, any>> {
    return (await this.control("cells")).result;
  }

  async cancel(cell: string): Promise<Record<string, any>> {
    return (await this.control("cancel", { cell })).result;
  }

  /** A cell's record and its output so far (the latest cell without an id). */
  async poll(cellId?: string, timeoutMs = 10_000): Promise<PolledCell> {
    const reply = await this.control("poll", cellId ? { cell: cellId } : {}, timeoutMs);
    const streams: number[] = reply.result.streams ?? [];
    const chunks = reply.blobs.map((data, i) => ({ stream: streams[i] ?? STDOUT, data }));
    return { ...reply.result, output: Buffer.concat(reply.blobs), chunks };
  }

  /** Output of no cell (threads and children of ended cells), from the agent's bounded log. */
  async backgroundOutput(since: number): Promise<BackgroundOutput> {
    const reply = await this.control("output", { since });
    const streams: number[] = reply.result.streams ?? [];
    const chunks = reply.blobs.map((data, i) => ({ stream: streams[i] === STDERR ? ("stderr" as const) : ("stdout" as const), text: data.toString("utf8") }));
    return { seq: reply.result.seq, since: reply.result.since, dropped: reply.result.dropped, chunks };
  }

  /** KeyboardInterrupt to the executor's cell, SIGKILL to every fork's group (no escalation here). */
  async interrupt(): Promise<{ interrupted: string | null; threads: number; processes: number }> {
    return (await this.control("int", {}, 5000)).result;
  }

  /** Join the PTY's viewers: applies the size, returns the replay and where live bytes continue. */
  async screenAttach(opts: ScreenSize & { max: number; from?: number; screen?: string }): Promise<ScreenReplay> {
    const reply = await this.control("attach", { ...opts }, 10_000);
    const replay = reply.blobs[0] ?? Buffer.alloc(0);
    return { replay, offset: Number(reply.result.offset) || 0, screen: String(reply.result.screen ?? ""), resumed: reply.result.resumed === true };
  }

  /** Keystrokes to the PTY; true when the line editor says the viewer detached (Ctrl-D). */
  async screenInput(data: Buffer): Promise<boolean> {
    const r = await this.control("input", {}, 10_000, [data]);
    return r.result?.detach === true;
  }

  screenResize(size: ScreenSize): void {
    this.control("resize", { ...size }, 5000).catch(() => {});
  }

  /** One viewer fewer (the agent counts them). */
  screenDetach(): void {
    if (this.state === "alive") this.control("detach", {}, 5000).catch(() => {});
  }

  /** End the agent: ask it, then TERM and KILL its process group; remove its socket. */
  async kill(): Promise<void> {
    if (this.regaining && this.reach.remote) {
      // A remote link being re-joined: wait a little for it, so the agent hears the kill.
      await Promise.race([this.regaining, new Promise((r) => setTimeout(r, 10_000).unref())]);
    }
    this.closing = true;
    this.checkpoint.close();
    clearTimeout(this.ackTimer);
    // The agent exits on "kill" without a reply: its link closing says it heard; a timeout
    // says it did not (its reader starved by a cell holding the GIL).
    let heard = this.state !== "alive";
    if (this.state === "alive") {
      heard = await this.link.request("kill", {}, [], { timeoutMs: this.reach.remote ? 5000 : 1000 }).then(
        () => true,
        (e: Error) => !(e instanceof LinkTimeoutError),
      );
    }
    this.link.shutdown(null);
    await this.reach.end(this.pid, heard);
    this.state = "dead";
    this.deathReason = this.killNote ?? "killed";
  }

  /** Flow control (daemon/backpressure.ts): stop reading the agent's socket until every
   * pause has been matched by a resume (several slow clients may hold it at once). */
  pauseInput(): void {
    this.inputPauses++;
    this.stream?.input.pause();
  }
  resumeInput(): void {
    if (this.inputPauses > 0 && --this.inputPauses > 0) return;
    this.stream?.input.resume();
  }
  /** A regained stream starts paused if a slow client holds the output back. */
  private pauseStream(): void {
    if (this.inputPauses > 0) this.stream?.input.pause();
  }

  /** Drop the connection but leave the agent running (daemon restart). */
  detach(): void {
    clearTimeout(this.ackTimer);
    this.closing = true;
    this.state = "dead";
    this.deathReason = "detached";
    this.link.shutdown(null);
  }
}
