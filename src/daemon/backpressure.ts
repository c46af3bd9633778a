// Flow control from a slow WebSocket client back to the session agent: while a client has more
// than HIGH bytes of cell output unsent, the daemon stops reading that session's agent socket
// (the agent's writes then block, so the cell waits instead of its output piling up in the
// daemon). Reading resumes below LOW. A client that makes no progress for STALL_MS is dropped
// (its cell keeps running; poll has the output) so one stuck client cannot freeze a session.
import type { WebSocket } from "ws";
import type { Session } from "../session/session.js";

const HIGH = 16 * 1024 * 1024;
const LOW = 4 * 1024 * 1024;
const STALL_MS = 15_000;
const pausedBy = new Map<Session, number>();

function release(s: Session): void {
  const n = (pausedBy.get(s) ?? 1) - 1;
  if (n > 0) pausedBy.set(s, n);
  else {
    pausedBy.delete(s);
    s.resumeInput();
  }
}

/** Call after sending output of session s to ws. */
export function throttle(ws: WebSocket, s: Session, watching: Set<WebSocket>): void {
  if (ws.bufferedAmount < HIGH || watching.has(ws)) return;
  watching.add(ws);
  pausedBy.set(s, (pausedBy.get(s) ?? 0) + 1);
  s.pauseInput();
  let last = ws.bufferedAmount;
  let progressAt = Date.now();
  const check = () => {
    const now = Date.now();
    if (ws.readyState !== ws.OPEN || ws.bufferedAmount <= LOW) {
      watching.delete(ws);
      return release(s);
    }
    if (ws.bufferedAmount < last) {
      last = ws.bufferedAmount;
      progressAt = now;
    } else if (now - progressAt > STALL_MS) {
      ws.terminate();
      watching.delete(ws);
      return release(s);
    }
    setTimeout(check, 2);
  };
  setTimeout(check, 2);
}
