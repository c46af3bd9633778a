// The structured protocol's one speaker (subprotocol "pythond.json.1", docs/PROTOCOL.md), used
// by the daemon's adapter, the client, the CLI and the web bridge alike. Text frames are JSON
// requests {"id", "op", ...}, replies {"id", "ok", "result"|"error"} and events {"id", "event"};
// cell and screen output travel as binary frames: u32be request id, u8 stream, bytes.
// Nothing here imports anything: it sits on the pysh cold path.

export const STRUCTURED_PROTOCOL = "pythond.json.1";
/** pythond 0.4's text protocol, offered second by clients and served by the daemon. */
export const LEGACY_PROTOCOL = "pythond.0.4";

/** Stream numbers of binary output frames. */
export const STDOUT_STREAM = 1;
export const STDERR_STREAM = 2;
/** Screen bytes of an attach (the session's PTY). */
export const SCREEN_STREAM = 3;

/** A request that is not a well-formed envelope; its message is what the client is told. */
export class WireError extends Error {
  override name = "WireError";
  readonly code = "bad_request";
}

export interface Request {
  id: number;
  op: string;
  [key: string]: unknown;
}

export interface WireErrorBody {
  code: string;
  message: string;
}

/** A request frame as a client sends it (the id and op win over same-named fields). */
export function encodeRequest(id: number, op: string, fields: Record<string, unknown>): string {
  return JSON.stringify({ ...fields, id, op });
}

/** Parse a request frame; throws WireError for anything but {"id": u32, "op": string, ...}. */
export function parseRequest(text: string): Request {
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch {
    throw new WireError("request is not JSON");
  }
  if (typeof req !== "object" || req === null || Array.isArray(req)) throw new WireError("request is not a JSON object");
  const r = req as Request;
  if (!Number.isInteger(r.id) || r.id < 0 || r.id > 0xffffffff) throw new WireError('"id" must be an integer from 0 to 4294967295');
  if (typeof r.op !== "string") throw new WireError('"op" must be a string');
  return r;
}

export function encodeResult(id: number, result: unknown): string {
  return JSON.stringify({ id, ok: true, result });
}

/** An error reply; id null when the request itself could not be read. */
export function encodeError(id: number | null, error: WireErrorBody): string {
  return JSON.stringify({ id, ok: false, error });
}

/** An intermediate event of a request (e.g. "attached", "waiting", "warning"). */
export function encodeEvent(id: number, event: string, fields: Record<string, unknown>): string {
  return JSON.stringify({ id, event, ...fields });
}

/** What a client reads from a text frame: an event or the final reply of request `id`. */
export type Incoming =
  | { kind: "event"; id: number; event: string; fields: Record<string, unknown> }
  | { kind: "result"; id: number; result: unknown }
  | { kind: "error"; id: number | null; error: WireErrorBody };

/** Parse a daemon's text frame; undefined for what is not ours to guess at. */
export function parseIncoming(text: string): Incoming | undefined {
  let msg: any;
  try {
    msg = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof msg !== "object" || msg === null) return undefined;
  if (msg.event !== undefined) {
    const { id, event, ...fields } = msg;
    return { kind: "event", id, event, fields };
  }
  if (msg.ok) return { kind: "result", id: msg.id, result: msg.result };
  return { kind: "error", id: msg.id, error: { code: String(msg.error?.code ?? "internal"), message: String(msg.error?.message ?? "unknown error") } };
}

/** A binary output frame: u32be request id, u8 stream, the bytes. */
export function encodeOutput(id: number, stream: number, data: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(id, 0);
  head.writeUInt8(stream, 4);
  return Buffer.concat([head, data]);
}

/** Undefined for a frame too short to carry the header. */
export function decodeOutput(frame: Buffer): { id: number; stream: number; data: Buffer } | undefined {
  if (frame.length < 5) return undefined;
  return { id: frame.readUInt32BE(0), stream: frame.readUInt8(4), data: frame.subarray(5) };
}

// While attached, a client sends keystrokes as bare binary frames and these text controls.
// "id" is optional: a control without one belongs to the connection's attach.

export function encodeResize(rows: number, cols: number): string {
  return JSON.stringify({ op: "resize", rows, cols });
}

export function encodeDetach(): string {
  return JSON.stringify({ op: "detach" });
}

export type AttachControl = { op: "resize"; id?: unknown; rows: unknown; cols: unknown } | { op: "detach"; id?: unknown };

/** An attach control in a text frame, or undefined (then it is an ordinary request, or garbage). */
export function parseAttachControl(text: string): AttachControl | undefined {
  let msg: any;
  try {
    msg = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (msg?.op === "resize") return { op: "resize", id: msg.id, rows: msg.rows, cols: msg.cols };
  if (msg?.op === "detach") return { op: "detach", id: msg.id };
  return undefined;
}
