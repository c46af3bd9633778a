// pythond 0.4's `attach <n> [rows cols]` (compat §7, §14.15), byte for byte: the connection
// becomes the terminal (binary frames both ways, "detach" and "resize r c" as text, their bytes
// in src/wire/legacy.ts) until it detaches; several attachers allowed. The session side is
// screen-viewers.ts, as for the structured attach op.
import type { DaemonContext, ConnInfo } from "./context.js";
import { encodeErr, parseAttachText, ATTACHED_REPLY, DETACHED_REPLY, DETACHED_REASON, type LegacyCommand } from "../wire/legacy.js";
import { newViewer, join, leave, checkSize, chunks, MAX_INPUT_FRAME, type Size } from "./screen-viewers.js";

/** pythond 0.4 replayed the last 64 KiB in one binary frame; legacy attachers get the same. */
const LEGACY_REPLAY_BYTES = 64 * 1024;
const LEGACY_FRAME = 4096;

export async function legacyAttach(ctx: DaemonContext, c: LegacyCommand, conn: ConnInfo): Promise<string | null> {
  const [name, rowsText, colsText] = c.args;
  const ws = conn.ws;
  const s = ctx.table.find(name);
  if (!s) return encodeErr(`no session '${name}'`);
  if (!ws) return encodeErr(`session '${name}' has no PTY`);
  let size: Size = {};
  if (rowsText !== undefined) {
    const rows = Number(rowsText);
    const cols = Number(colsText);
    try {
      size = checkSize(rows, cols);
    } catch {
      ctx.log.write({ event: "attach", conn_id: conn.id, peer: conn.peer, session: name, status: "resize-failed" });
      return encodeErr(`invalid size: ${rowsText} ${colsText ?? ""}`.trimEnd());
    }
  }
  const v = newViewer(
    {
      write: (data) => {
        if (ws.readyState !== ws.OPEN) return;
        for (const part of chunks(data, LEGACY_FRAME)) ws.send(part, { binary: true });
      },
      backlog: () => ws.bufferedAmount,
      drop: () => ws.terminate(),
    },
    (reason) => {
      if (v.closed) return;
      v.closed = true;
      leave(s, v);
      if (ws.readyState === ws.OPEN) ws.close(1000, reason);
    },
  );
  let start: (send: (replay: Buffer) => void) => void;
  try {
    ({ start } = await join(s, v, size, LEGACY_REPLAY_BYTES));
  } catch (e) {
    return encodeErr((e as Error).message);
  }
  ws.on("close", () => {
    if (v.closed) return;
    v.closed = true;
    leave(s, v);
  });
  let typing = Promise.resolve();
  conn.onMessage = (data, isBinary) => {
    if (v.closed) return true;
    if (isBinary) {
      if (data.length > MAX_INPUT_FRAME) return true; // dropped: too large for a keystroke frame
      const copy = Buffer.from(data);
      typing = typing.then(async () => {
        if (!v.closed && (await s.screenInput(copy).catch(() => false))) detach();
      });
      return true;
    }
    const control = parseAttachText(data.toString("utf8"));
    if (control?.op === "detach") detach();
    else if (control?.op === "resize") {
      try {
        s.screenResize(checkSize(control.rows, control.cols));
      } catch {
        /* 0.4 ignores what it cannot apply */
      }
    }
    return true;
  };
  const detach = () => {
    if (v.closed) return;
    v.closed = true;
    leave(s, v);
    ctx.log.write({ event: "detach", conn_id: conn.id, peer: conn.peer, session: name, status: "ok" });
    if (ws.readyState === ws.OPEN) {
      ws.send(DETACHED_REPLY);
      ws.close(1000, DETACHED_REASON);
    }
  };
  conn.afterReply = () => {
    start((replay) => {
      if (ws.readyState === ws.OPEN) ws.send(replay, { binary: true });
    });
  };
  return ATTACHED_REPLY;
}
