// Cells as the MCP tools see them: python_run starts one and waits up to its budget; a cell
// that outlives the budget keeps running (nothing interrupted) and python_wait picks it up
// where the last result stopped. While this server lives, the cell's run request stays open
// on the daemon connection and its output streams into the cell's windows, stdout and
// stderr apart; a cell this server did not start (fired by pysh, or from before a restart of
// the server) is read with poll.
import type { Client, CellOutcome } from "../client/client.js";
import { DaemonRequestError, ConnectError } from "../client/errors.js";
import { randomHex } from "../util/random.js";
import { STDERR_STREAM } from "../wire/structured.js";
import { OutputWindow } from "./output-window.js";
import { StreamView } from "./stream-view.js";

export type CellState = "done" | "running" | "queued" | "unknown" | "evicted" | "idle";

/** What one result reports of a cell: the output since the previous result, and the outcome. */
export interface CellView {
  session: string;
  cellId: string | null;
  state: CellState;
  stdout: string;
  stderr: string;
  ok: boolean | null;
  value: string | null;
  error: { type: string; message: string; traceback: string } | null;
  images: string[];
  rich: { mime: string; text: string }[];
  dropped: number;
  duration: number | null;
}

export interface WaitOptions {
  budgetMs: number;
  signal?: AbortSignal;
}

export const cellUri = (session: string, cell: string) => `pythond://sessions/${session}/cells/${cell}`;

const MAX_TRACKED = 256;
/** How long a cell whose daemon went away waits for the next one. */
const RECONNECT_MS = 10_000;

class TrackedCell {
  readonly stdout: StreamView;
  readonly stderr: StreamView;
  /** The last few KB of output, for the latest line (output arrives in pieces: "step", " 3\n"). */
  private recent = "";
  outcome: CellOutcome | null = null;
  failure: Error | null = null;
  /** Bytes of output (both streams) up to the last view: where a poll picks up. */
  delivered = 0;
  readonly settled: Promise<void>;

  constructor(readonly session: string, readonly id: string, cap: number, start: (out: (s: number, d: Buffer) => void) => Promise<CellOutcome>) {
    this.stdout = new StreamView(cap);
    this.stderr = new StreamView(cap);
    this.settled = start((stream, data) => this.add(stream, data)).then(
      (o) => void (this.outcome = o),
      (e) => void (this.failure = e as Error),
    );
  }

  private add(stream: number, data: Buffer): void {
    (stream === STDERR_STREAM ? this.stderr : this.stdout).add(data);
    this.recent = (this.recent + data.subarray(Math.max(0, data.length - 4096)).toString("utf8")).slice(-4096);
  }

  get lastLine(): string {
    const lines = this.recent.split("\n").filter((l) => l.trim());
    return lines.length ? lines[lines.length - 1].slice(-200) : "";
  }

  /** The output since the last view, and the outcome if there is one. */
  view(): CellView {
    const where = `resource ${cellUri(this.session, this.id)}`;
    const o = this.outcome;
    const out = this.stdout.take(where, o !== null);
    const err = this.stderr.take(where, o !== null);
    this.delivered += out.bytes + err.bytes;
    const v: CellView = {
      session: this.session,
      cellId: this.id,
      state: o ? "done" : "running",
      stdout: out.text,
      stderr: err.text,
      ok: o ? o.ok : null,
      value: o?.value ?? null,
      error: o?.error ?? null,
      images: o?.images ?? [],
      rich: (o as { rich?: CellView["rich"] } | null)?.rich ?? [],
      dropped: o?.dropped ?? 0,
      duration: o?.duration ?? null,
    };
    return v;
  }
}

/** Resolves after ms, or at once when the signal aborts; never rejects. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    t.unref(); // a wait alone does not keep the server alive once its client has gone
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export class Cells {
  private readonly tracked = new Map<string, TrackedCell>();
  private readonly latest = new Map<string, string>();
  /** Bytes of a polled cell's output already shown, by session/cell. */
  private readonly polledSeen = new Map<string, number>();

  constructor(private readonly cap: number, private readonly connect: () => Promise<Client>) {}

  /** The latest output line of a cell being waited for (progress messages). */
  lastLine(session: string, cell: string | null): string {
    return cell ? this.tracked.get(`${session}/${cell}`)?.lastLine ?? "" : "";
  }

  /** Start a cell and wait for it up to the budget. Rejects for protocol errors (no session…). */
  async run(session: string, code: string, opts: WaitOptions, onStart?: (cell: string) => void): Promise<CellView> {
    const client = await this.connect();
    const id = randomHex(6);
    const cell = new TrackedCell(session, id, this.cap, (output) => client.run(session, code, { output }, id));
    this.remember(cell);
    onStart?.(id);
    return this.await(cell, opts);
  }

  /** Wait for a cell (the session's latest without one) up to the budget. */
  async wait(session: string, cellId: string | undefined, opts: WaitOptions): Promise<CellView> {
    const id = cellId ?? this.latest.get(session);
    const cell = id ? this.tracked.get(`${session}/${id}`) : undefined;
    if (cell) return this.await(cell, opts);
    return this.poll(session, cellId, opts);
  }

  private async await(cell: TrackedCell, opts: WaitOptions): Promise<CellView> {
    const started = Date.now();
    await Promise.race([cell.settled, pause(opts.budgetMs, opts.signal)]);
    if (cell.failure) {
      this.forget(cell);
      if (!(cell.failure instanceof ConnectError)) throw cell.failure;
      // The daemon went away mid-cell. The session's agent lives on and the next daemon
      // re-adopts it: read the rest of the cell from there, from where the last result stopped.
      if (cell.delivered) this.polledSeen.set(`${cell.session}/${cell.id}`, cell.delivered);
      await this.reconnect(RECONNECT_MS);
      return this.poll(cell.session, cell.id, { ...opts, budgetMs: Math.max(0, opts.budgetMs - (Date.now() - started)) });
    }
    const v = cell.view();
    if (v.state === "done") this.forget(cell);
    return v;
  }

  private async poll(session: string, cellId: string | undefined, opts: WaitOptions): Promise<CellView> {
    const client = await this.connect();
    const waitS = Math.max(0, Math.floor(opts.budgetMs / 1000));
    const fields: Record<string, unknown> = { session, wait: waitS };
    if (cellId) fields.cell = cellId;
    const r = await client.request("poll", fields);
    const id: string | null = r.cell_id ?? cellId ?? null;
    const key = `${session}/${id}`;
    const all = Buffer.from(r.output ?? "", "utf8");
    const seen = this.polledSeen.get(key) ?? 0;
    const window = new OutputWindow(this.cap);
    window.add(all.subarray(Math.min(seen, all.length)));
    const done = r.state === "done";
    if (done) this.polledSeen.delete(key);
    else if (id) this.polledSeen.set(key, all.length);
    return {
      session,
      cellId: id,
      state: (r.state as CellState) ?? "unknown",
      stdout: window.text(id ? `resource ${cellUri(session, id)}` : "pysh poll"),
      stderr: "",
      ok: done ? r.ok ?? null : null,
      value: done ? r.value ?? null : null,
      error: done ? r.error ?? null : null,
      images: done ? r.images ?? [] : [],
      rich: done ? r.rich ?? [] : [],
      dropped: r.dropped ?? 0,
      duration: r.duration ?? null,
    };
  }

  /** Wait for a daemon to answer again (a restart takes a moment), up to ms. */
  private async reconnect(ms: number): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      try {
        await this.connect();
        return;
      } catch (e) {
        if (!(e instanceof ConnectError) || Date.now() > until) throw e;
        await pause(200);
      }
    }
  }

  private remember(cell: TrackedCell): void {
    this.tracked.set(`${cell.session}/${cell.id}`, cell);
    this.latest.set(cell.session, cell.id);
    // Finished cells nobody came back for are dropped first; their output stays in the session.
    if (this.tracked.size > MAX_TRACKED) {
      for (const [k, c] of this.tracked) {
        if (c.outcome || c.failure) {
          this.tracked.delete(k);
          break;
        }
      }
    }
  }

  private forget(cell: TrackedCell): void {
    this.tracked.delete(`${cell.session}/${cell.id}`);
  }
}

/** True for the daemon's "no such session" error (the default session is then created). */
export function isNoSession(e: unknown): boolean {
  return e instanceof DaemonRequestError && e.code === "no_session";
}
