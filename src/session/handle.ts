// What ops talk to: one session, whatever runs it: the local agent (session.ts), a session
// proxied to a remote daemon (proxy/proxied-session.ts), one whose agent runs on an ssh host.
// A proxied session adds `remote`: the few verbs its remote daemon does whole (int with its
// escalation, poll --wait, new, kill) and the state of the link.
import type { Hello } from "./agent-link.js";
import type { SessionSettings } from "./agent-key.js";
import type { Checkpoint } from "./checkpoint.js";

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

/** A cell's poll record and its output so far. */
export interface PolledCell extends Partial<CellResult> {
  state: string;
  output: Buffer;
  chunks: { stream: number; data: Buffer }[];
}

export interface BackgroundOutput {
  /** Pass as "since" next time: the byte offset after the last byte returned. */
  seq: number;
  since: number;
  /** Bytes after "since" that the agent's bounded log no longer holds. */
  dropped: number;
  chunks: { stream: "stdout" | "stderr"; text: string }[];
}

export interface ScreenSize {
  rows?: number;
  cols?: number;
}

export interface ScreenReplay {
  replay: Buffer;
  /** Screen offset at the end of the replay; live bytes continue from here. */
  offset: number;
  /** Names the screen log (a new one after a session restart). */
  screen: string;
  /** The replay is exactly the bytes after the offset asked for (else a fresh screen). */
  resumed: boolean;
}

export interface CellListener {
  output?(stream: number, data: Buffer): void;
  done?(result: CellResult): void;
  /** The agent died (or the daemon lost it) before the cell finished. */
  lost?(reason: string): void;
}

/** A cell the session died in (or with queued): what the daemon saw of it, for poll. */
export interface LostCell {
  cell_id: string;
  mode: string;
  output: Buffer;
  reason: string;
}

/** The link of a proxy to its remote daemon, as `pysh status` and `pysh ls` show it. */
export interface LinkInfo {
  address: string;
  tls: boolean;
  state: "connected" | "reconnecting" | "closed";
  /** Unix time (s) of the last change of state. */
  since: number;
  last_error: string | null;
  /** Round trip of the last ping (ms), null before the first. */
  rtt_ms: number | null;
  /** "pythond.json.1", or "pythond.0.4" for a pythond 0.4 remote. */
  protocol: string;
}

/** A session on another daemon: what that daemon does whole, so ops hand it over. */
export interface RemoteControl {
  readonly alias: string;
  /** The session's name on the remote daemon. */
  readonly remoteName: string;
  linkInfo(): LinkInfo;
  /** Another session of the same remote daemon (the explicit form: pysh run <alias> <remote> ...). */
  session(remoteName: string): SessionHandle;
  /** Verbs the remote daemon answers whole, with its fields (int with escalation, poll --wait, new, kill). */
  ask(op: string, fields: Record<string, unknown>, event?: (name: string, fields: Record<string, unknown>) => void): Promise<any>;
}

export interface SessionHandle {
  readonly name: string;
  /** Where it runs, for ls and status: "local" for an agent on this machine. */
  readonly where: string;
  readonly pid: number;
  readonly info: Hello;
  /** "lost": the agent lives on but its link could not be regained (never called dead). */
  readonly state: "alive" | "dead" | "lost";
  readonly deathReason: string;
  readonly lastActivity: number;
  /** What `new` was given: what restart reuses. */
  readonly settings: SessionSettings;
  /** history.py and session.log. */
  readonly checkpoint: Checkpoint;
  /** Cells in flight when the session died, for poll. */
  readonly lostCells: ReadonlyMap<string, LostCell>;
  /** Set before a deliberate kill (interrupt escalation): becomes the death reason. */
  killNote?: string;

  // Cells
  /** Run a cell and wait for its end; output streams to `output`. */
  run(code: string, mode: "run" | "replay", output?: CellListener["output"], cellId?: string, stdin?: string): Promise<CellResult>;
  /** Queue a background cell (fire: the executor; fork: a forked child); resolves once accepted. */
  exec(code: string, mode: "fire" | "fork", listener?: CellListener): Promise<{ cell_id: string; seq: number }>;
  poll(cellId?: string, timeoutMs?: number): Promise<PolledCell>;
  /** Follow a cell already running; undefined if this daemon does not track it (poll instead). */
  watch(cellId: string, listener: CellListener): (() => void) | undefined;
  cancel(cell: string): Promise<Record<string, unknown>>;
  interrupt(): Promise<{ interrupted: string | null; threads: number; processes: number }>;

  // Queries (answered at once, even while a cell runs)
  status(timeoutMs?: number): Promise<Record<string, any>>;
  vars(reprs?: boolean): Promise<Record<string, unknown>>;
  complete(text: string): Promise<Record<string, unknown>>;
  cells(): Promise<Record<string, unknown>>;
  backgroundOutput(since: number): Promise<BackgroundOutput>;

  // Attach: a screen stream plus input and resize
  screenAttach(opts: ScreenSize & { max: number; from?: number; screen?: string }): Promise<ScreenReplay>;
  screenInput(data: Buffer): Promise<boolean>;
  screenResize(size: ScreenSize): void;
  screenDetach(): void;
  onScreen(f: (data: Buffer, end: number) => void): () => void;
  onDeath(f: (reason: string) => void): () => void;

  // Life
  isDead(): boolean;
  kill(): Promise<void>;
  /** Let go without ending it (a daemon stopping with its sessions kept). */
  detach(): void;
  /** A session that restarts itself (a proxy: its remote daemon does it). Without it, restart
   * starts a fresh session of the same kind with `settings`. */
  restart?(replay: boolean): Promise<Record<string, unknown>>;
  /** Set for a session on another daemon (a proxy). */
  readonly remote?: RemoteControl;
  /** Flow control: stop reading the session's output until each pause is resumed. */
  pauseInput(): void;
  resumeInput(): void;
}
