// attach: a client watches and types into the session's PTY until it detaches (Ctrl-D, a
// detach control, its connection closing) or the session ends. The result is the op's reply.
import type { DaemonContext } from "../context.js";
import type { Sink } from "./op.js";
import type { SessionHandle } from "../../session/handle.js";
import { DaemonError } from "../errors.js";
import { newViewer, join, leave, checkSize, chunks, MAX_INPUT_FRAME, type Size, type Resume } from "../screen-viewers.js";

/** Replay at least this much of the screen to a structured attacher. */
export const REPLAY_BYTES = 1024 * 1024;
/** Screen bytes per output frame. */
const FRAME = 64 * 1024;

/** What a client sends while attached, decoded by its protocol adapter. */
export type TerminalInput = { kind: "keys"; data: Buffer } | { kind: "resize"; rows: unknown; cols: unknown } | { kind: "detach" };

/** The client's side of an attach, as its adapter provides it. */
export interface Terminal {
  /** Screen bytes to the client. */
  write(data: Buffer): void;
  /** Bytes sent to the client but not yet taken by it. */
  backlog(): number;
  /** Cut the client's connection (too slow). */
  drop(): void;
  /** Call f once the client's connection closes; returns what stops that. */
  onClose(f: () => void): () => void;
  /** Route the connection's input to f until released; undefined if another attach has it. */
  claimInput(f: (input: TerminalInput) => void): (() => void) | undefined;
}

export interface AttachParams {
  s: SessionHandle;
  size: Size;
  resume?: Resume;
  readOnly: boolean;
  peer: { conn_id: number; peer: string };
}

export async function attach(ctx: DaemonContext, p: AttachParams, sink: Sink & { terminal: Terminal }): Promise<unknown> {
  const { s, readOnly } = p;
  const { terminal } = sink;
  const { conn_id, peer } = p.peer;
  let end: (reason: string) => void = () => {};
  const v = newViewer(
    {
      write: (data) => {
        for (const part of chunks(data, FRAME)) terminal.write(part);
      },
      backlog: () => terminal.backlog(),
      drop: () => terminal.drop(),
    },
    (reason) => end(reason),
  );
  let typing = Promise.resolve();
  const release = terminal.claimInput((input) => {
    if (input.kind === "keys") {
      if (readOnly || v.closed) return;
      if (input.data.length > MAX_INPUT_FRAME) {
        sink.event("warning", { message: `input frame of ${input.data.length} bytes refused (limit ${MAX_INPUT_FRAME})` });
        return;
      }
      const copy = Buffer.from(input.data);
      typing = typing.then(async () => {
        if (!v.closed && (await s.screenInput(copy).catch(() => false))) end("ctrl-d");
      });
    } else if (input.kind === "resize") {
      try {
        if (!readOnly) s.screenResize(checkSize(input.rows, input.cols));
      } catch (e) {
        sink.event("warning", { message: (e as Error).message });
      }
    } else end("detached");
  });
  if (!release) throw new DaemonError("bad_request", "this connection is already attached");
  return new Promise((resolve, reject) => {
    let unClose = () => {};
    end = (reason) => {
      if (v.closed) return;
      v.closed = true;
      release();
      unClose();
      leave(s, v);
      ctx.log.write({ event: "detach", conn_id, peer, session: s.name, status: reason });
      if (reason === "session killed") reject(new DaemonError("session_dead", `session '${s.name}' ended while attached`));
      else resolve({ detached: true, reason });
    };
    unClose = terminal.onClose(() => end("connection closed"));
    join(s, v, readOnly ? {} : p.size, REPLAY_BYTES, p.resume).then(
      ({ info, start }) => {
        if (v.closed) return;
        ctx.log.write({ event: "attach", conn_id, peer, session: s.name, status: info.resumed ? "resumed" : "ok" });
        sink.event("attached", {
          session: s.name,
          read_only: readOnly,
          offset: info.offset,
          replay_bytes: info.replayBytes,
          screen: info.screen,
          resumed: info.resumed,
        });
        start((replay) => v.write(replay));
      },
      (e) => {
        v.closed = true;
        release();
        unClose();
        reject(e);
      },
    );
  });
}
