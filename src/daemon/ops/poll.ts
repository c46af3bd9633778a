// poll: a cell's state and output (the latest cell without an id), optionally waiting for its
// end; for a dead session, what the cell it died in wrote and why.
import type { DaemonContext } from "../context.js";
import type { Sink } from "./op.js";
import type { SessionHandle } from "../../session/handle.js";
import { waitDone } from "./wait-done.js";

export interface PollParams {
  s: SessionHandle;
  cell?: string;
  /** Seconds to wait for a running cell to end ("waiting" event if it does not). */
  waitS?: number;
  /** Report cells a dead session lost (0.4's poll has no such answer). */
  lost: boolean;
}

export interface Polled {
  state: string;
  output: string;
  [field: string]: unknown;
}

export async function poll(ctx: DaemonContext, p: PollParams, sink: Sink): Promise<Polled> {
  let { s } = p;
  let cell = p.cell;
  // A proxied session: its daemon waits, and knows the cells its session died in.
  if (s.remote) return s.remote.ask("poll", { ...(cell ? { cell } : {}), ...(p.waitS !== undefined ? { wait: p.waitS } : {}) }, (n, f) => sink.event(n, f));
  if (p.waitS !== undefined) {
    const first = await s.poll(cell, 10_000);
    cell ??= first.cell_id;
    if (cell && (first.state === "running" || first.state === "queued")) {
      const done = await waitDone(s, cell, p.waitS * 1000);
      if (!done) sink.event("waiting", { cell_id: cell, timed_out: true });
    }
    s = ctx.table.get(s.name); // the session as it is now (a restart may have replaced it)
  }
  if (p.lost && s.isDead()) {
    // A cell the session died in: what it wrote (its last words included), and why.
    const lost = cell ? s.lostCells.get(cell) : [...s.lostCells.values()].pop();
    if (lost) {
      const { output, reason, ...rest } = lost;
      return { ...rest, state: "dead", ok: false, output: output.toString("utf8"), error: { type: "SessionDead", message: reason, traceback: "" } };
    }
  }
  const { output, chunks, ...rest } = await s.poll(cell);
  return { ...rest, output: output.toString("utf8") };
}
