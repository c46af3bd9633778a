// Flow control from a slow WebSocket client back to the session agent: while a client has more
// than HIGH bytes of cell output unsent, the daemon stops reading that session's agent socket
// (the agent's writes then block, so the cell waits instead of its output piling up in the
// daemon). Reading resumes below LOW. A client that makes no progress for STALL_MS is dropped
// (its cell keeps running; poll has the output) so one stuck client cannot freeze a session.
// The session counts its pauses (several slow clients may hold it at once).
import type { WebSocket } from "ws";
import type { OutputSource } from "./ops/op.js";

const HIGH = 16 * 1024 * 1024;
const LOW = 4 * 1024 * 1024;
const STALL_MS = 15_000;

/**
 * Call after sending output of `s` to ws: true if ws is over HIGH and a watch started, which
 * holds the session's input until ws drains (or is dropped), then calls `released`.
 */
export function throttle(ws: WebSocket, s: OutputSource, released: () => void): boolean {
  if (ws.bufferedAmount < HIGH) return false;
  s.pauseInput();
  let last = ws.bufferedAmount;
  let progressAt = Date.now();
  const release = () => {
    released();
    s.resumeInput();
  };
  const check = () => {
    const now = Date.now();
    if (ws.readyState !== ws.OPEN || ws.bufferedAmount <= LOW) return release();
    if (ws.bufferedAmount < last) {
      last = ws.bufferedAmount;
      progressAt = now;
    } else if (now - progressAt > STALL_MS) {
      ws.terminate();
      return release();
    }
    setTimeout(check, 2);
  };
  setTimeout(check, 2);
  return true;
}
