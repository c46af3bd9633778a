// A session on a remote daemon, reached through a proxy's link: one more SessionHandle, so
// every op works through the alias. Requests carry the remote session's name; the remote
// daemon's errors keep their codes. A `run` whose link drops mid-cell is not lost: the cell
// runs on over there (it was named here, so its id survives), and once the link is back the
// call takes the output it has not seen and the result from the remote daemon's poll.
import type { Hello } from "../session/agent-link.js";
import type { SessionSettings } from "../session/agent-key.js";
import { Checkpoint } from "../session/checkpoint.js";
import { newCellId } from "../session/session.js";
import type {
  SessionHandle,
  RemoteControl,
  LinkInfo,
  CellResult,
  CellListener,
  PolledCell,
  BackgroundOutput,
  ScreenSize,
  ScreenReplay,
  LostCell,
} from "../session/handle.js";
import { ConnectError } from "../client/errors.js";
import type { CellOutcome, RequestHandlers } from "../client/requests.js";
import { DaemonError } from "../daemon/errors.js";
import type { RemoteLink } from "./link.js";
import { ProxyScreen } from "./screen.js";
import { remoteError } from "./failure.js";

/** Each poll of a cell whose run lost its link waits this long on the remote daemon (s). */
const RESUME_POLL_S = 30;
/** pysh status through a proxy waits at most this long for the remote daemon. */
const STATUS_DEADLINE_MS = 5_000;

export class ProxiedSession implements SessionHandle, RemoteControl {
  readonly pid = 0;
  readonly deathReason = "";
  readonly settings: SessionSettings = {};
  readonly lostCells: ReadonlyMap<string, LostCell> = new Map();
  readonly checkpoint: Checkpoint;
  killNote?: string;
  lastActivity = Date.now();
  private readonly screen: ProxyScreen;
  private readonly deathListeners = new Set<(reason: string) => void>();
  private dropped = false;
  private readonly ownsLink: boolean;

  constructor(
    readonly link: RemoteLink,
    readonly alias: string,
    readonly remoteName: string = alias,
    /** The alias's handle owns the link and its session.log; one of the explicit form borrows them. */
    owner?: ProxiedSession,
  ) {
    this.ownsLink = !owner;
    // What went through the proxy (fire/fork launches) goes to the alias's session.log.
    this.checkpoint = owner?.checkpoint ?? new Checkpoint(alias);
    this.screen = new ProxyScreen(link, remoteName, (reason) => this.ended(reason));
  }

  /** The alias itself, or (explicit form) the remote name. */
  get name(): string {
    return this.remoteName;
  }

  get remote(): RemoteControl {
    return this;
  }

  get where(): string {
    return this.link.address;
  }

  get info(): Hello {
    return { name: this.remoteName, pid: 0, python: "", executable: "", cwd: "", started: 0, socket: this.link.address };
  }

  get state(): SessionHandle["state"] {
    const s = this.link.info().state;
    return this.dropped || s === "closed" ? "dead" : s === "connected" ? "alive" : "lost";
  }

  isDead(): boolean {
    return this.state === "dead";
  }

  linkInfo(): LinkInfo {
    return this.link.info();
  }

  // RemoteControl
  session(remoteName: string): SessionHandle {
    return new ProxiedSession(this.link, this.alias, remoteName, this);
  }

  async ask(op: string, fields: Record<string, unknown>, event?: (name: string, fields: Record<string, unknown>) => void): Promise<any> {
    return this.request(op, fields, event ? { event } : {});
  }

  private async request(op: string, fields: Record<string, unknown> = {}, handlers: RequestHandlers = {}, readyMs?: number): Promise<any> {
    const c = await this.link.ready(readyMs);
    this.lastActivity = Date.now();
    try {
      return await c.request(op, { session: this.remoteName, ...fields }, handlers);
    } catch (e) {
      if (e instanceof ConnectError) throw new DaemonError("unreachable", `remote ${this.link.address}: the link dropped during ${op} (${e.message}); it is being made again`);
      throw remoteError(e);
    }
  }

  // Cells
  async run(code: string, _mode: "run" | "replay", output?: CellListener["output"], cellId?: string, stdin?: string): Promise<CellResult> {
    const cell = cellId ?? newCellId();
    let seen = 0;
    const out = (stream: number, data: Buffer) => {
      seen += data.length;
      output?.(stream, data);
    };
    const c = await this.link.ready();
    this.lastActivity = Date.now();
    let r: CellOutcome;
    try {
      r = await c.run(this.remoteName, code, { output: out }, c.isLegacy ? undefined : cell, stdin);
    } catch (e) {
      if (!(e instanceof ConnectError) || c.isLegacy) throw e instanceof ConnectError ? new DaemonError("unreachable", `remote ${this.link.address}: the link dropped during run (${e.message})`) : remoteError(e);
      return this.resume(cell, seen, out);
    }
    return cellResult(r, seen);
  }

  /** The rest of a run cell whose link dropped: its output not seen yet, then its result. */
  private async resume(cell: string, seen: number, out: (stream: number, data: Buffer) => void): Promise<CellResult> {
    for (;;) {
      let c;
      try {
        c = await this.link.ready();
      } catch (e) {
        throw new DaemonError("unreachable", `${(e as Error).message}; cell ${cell} may still be running there -- pysh poll ${this.alias}${this.remoteName === this.alias ? "" : ` ${this.remoteName}`} ${cell}`);
      }
      let r: any;
      try {
        r = await c.request("poll", { session: this.remoteName, cell, wait: RESUME_POLL_S });
      } catch (e) {
        if (e instanceof ConnectError) continue;
        throw remoteError(e);
      }
      const all = Buffer.from(String(r.output ?? ""), "utf8");
      if (all.length > seen) {
        const rest = all.subarray(seen);
        out(1, rest);
      }
      if (r.state === "running" || r.state === "queued") continue;
      if (r.state === "unknown") throw new DaemonError("unreachable", `remote ${this.link.address}: the link dropped before cell ${cell} reached the remote daemon; it did not run`);
      if (r.state === "dead") throw new DaemonError("session_dead", r.error?.message ?? `session '${this.remoteName}' died`);
      return cellResult({ cell_id: cell, ok: r.ok ?? null, value: r.value ?? null, error: r.error ?? null, duration: r.duration ?? null, dropped: r.dropped ?? 0, ...(r.images ? { images: r.images } : {}) }, seen);
    }
  }

  async exec(code: string, mode: "fire" | "fork"): Promise<{ cell_id: string; seq: number }> {
    const r = await this.request(mode, { code });
    return { cell_id: r.cell_id, seq: 0 };
  }

  async poll(cellId?: string): Promise<PolledCell> {
    const r = await this.request("poll", cellId ? { cell: cellId } : {});
    const output = Buffer.from(String(r.output ?? ""), "utf8");
    return { ...r, output, chunks: [{ stream: 1, data: output }] };
  }

  /** Not followed here: waiting goes to the remote daemon (ops hand poll --wait over through `remote`). */
  watch(): undefined {
    return undefined;
  }

  cancel(cell: string): Promise<Record<string, unknown>> {
    return this.request("cancel", { cell });
  }

  async interrupt(): Promise<{ interrupted: string | null; threads: number; processes: number }> {
    const r = await this.request("int", { wait: false });
    return { interrupted: r.interrupted ?? null, threads: r.threads ?? 0, processes: r.processes ?? 0 };
  }

  // Queries
  /** The remote session's status and the link's; answered at once while the link is down. */
  async status(timeoutMs?: number): Promise<Record<string, any>> {
    const proxy = this.link.info();
    if (proxy.state !== "connected") return { state: "unreachable", running: [], vars: null, cells: null, proxy };
    // Answered at once, even when the remote is slow to: a deadline, then the link's state alone.
    const ms = timeoutMs ?? STATUS_DEADLINE_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new DaemonError("timeout", `remote ${this.link.address} did not answer status within ${ms} ms`)), ms)));
    try {
      return { ...(await Promise.race([this.request("status", {}, {}, 0), late])), proxy: this.link.info() };
    } catch (e) {
      // A link that went quiet (the ping has not given it up yet): what is known of it.
      if (e instanceof DaemonError && (e.code === "timeout" || e.code === "unreachable")) return { state: "unreachable", running: [], vars: null, cells: null, proxy: this.link.info(), error: e.message };
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  vars(reprs?: boolean): Promise<Record<string, unknown>> {
    return this.request("vars", reprs ? { reprs: true } : {});
  }

  complete(text: string): Promise<Record<string, unknown>> {
    return this.request("complete", { text });
  }

  cells(): Promise<Record<string, unknown>> {
    return this.request("cells");
  }

  backgroundOutput(since: number): Promise<BackgroundOutput> {
    return this.request("output", { since });
  }

  // Attach
  screenAttach(opts: ScreenSize & { max: number; from?: number; screen?: string }): Promise<ScreenReplay> {
    return this.screen.attach(opts);
  }

  screenInput(data: Buffer): Promise<boolean> {
    return this.screen.input(data);
  }

  screenResize(size: ScreenSize): void {
    this.screen.resize(size);
  }

  screenDetach(): void {
    this.screen.detach();
  }

  onScreen(f: (data: Buffer, end: number) => void): () => void {
    return this.screen.onScreen(f);
  }

  onDeath(f: (reason: string) => void): () => void {
    this.deathListeners.add(f);
    return () => this.deathListeners.delete(f);
  }

  private ended(reason: string): void {
    for (const f of [...this.deathListeners]) f(reason);
  }

  // Life
  /** Let go of the remote session (the proxy is dropped or replaced); killing it there is `remote.ask("kill")`. */
  async kill(): Promise<void> {
    this.detach();
  }

  detach(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.screen.close();
    if (this.ownsLink) {
      this.link.close();
      this.checkpoint.close();
    }
    this.ended("proxy disconnected");
  }

  async restart(replay: boolean): Promise<Record<string, unknown>> {
    return this.request("restart", replay ? { replay: true } : {});
  }

  pauseInput(): void {}
  resumeInput(): void {}
}

function cellResult(r: CellOutcome & { rich?: unknown[] }, bytes: number): CellResult {
  return {
    seq: 0,
    mode: "run",
    origin: "agent",
    state: "done",
    started_at: null,
    bytes,
    ...r,
    duration: r.duration ?? null,
    dropped: r.dropped ?? 0,
  } as CellResult;
}
