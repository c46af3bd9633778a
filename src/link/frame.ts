// The framed link format shared by sessions and tools (docs/PROTOCOL.md, "Agent link").
//   frame := u32be N, then N bytes of body
//   body  := u32be H, H bytes of JSON header, then the attachments (N - 4 - H bytes)
// The header lists attachment lengths in "b"; attachments are raw bytes, never base64.

export type Header = { [key: string]: unknown; b?: number[] };
export interface Frame {
  header: Header;
  blobs: Buffer[];
}

export class FrameError extends Error {
  override name = "FrameError";
}

export const DEFAULT_MAX_FRAME = 256 * 1024 * 1024;

export function encodeFrame(header: Header, blobs: readonly Uint8Array[] = []): Buffer[] {
  if (blobs.length) header.b = blobs.map((b) => b.byteLength);
  const json = JSON.stringify(header);
  const hlen = Buffer.byteLength(json, "utf8");
  let size = 4 + hlen;
  for (const b of blobs) size += b.byteLength;
  const prefix = Buffer.allocUnsafe(8 + hlen); // one buffer: lengths, then the header text
  prefix.writeUInt32BE(size, 0);
  prefix.writeUInt32BE(hlen, 4);
  prefix.write(json, 8, hlen, "utf8");
  if (!blobs.length) return [prefix];
  return [prefix, ...blobs.map((b) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)))];
}

export function decodeBody(body: Buffer): Frame {
  return decodeAt(body, 0, body.length);
}

const NONE: Buffer[] = Object.freeze([]) as unknown as Buffer[];

/** Decode the frame body buf[start, end) in place (no buffer object per frame). A frame without
 * attachments shares one empty (frozen) attachment list. With copy, the attachments get buffers
 * of their own (buf is about to be reused). */
function decodeAt(buf: Buffer, start: number, end: number, copy = false): Frame {
  if (end - start < 4) throw new FrameError("frame shorter than its header length");
  const hlen = buf.readUInt32BE(start);
  const hend = start + 4 + hlen;
  if (hend > end) throw new FrameError("header length beyond frame");
  let header: unknown;
  try {
    header = JSON.parse(buf.toString("utf8", start + 4, hend));
  } catch (e) {
    throw new FrameError(`header is not JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new FrameError("header is not an object");
  }
  const h = header as Header;
  if (h.b === undefined) {
    if (hend !== end) throw new FrameError("attachment lengths do not match the frame");
    return { header: h, blobs: NONE };
  }
  if (!Array.isArray(h.b)) throw new FrameError("attachment lengths are not a list");
  const blobs: Buffer[] = [];
  let pos = hend;
  for (const n of h.b) {
    if (!Number.isInteger(n) || n < 0 || pos + n > end) {
      throw new FrameError("attachment lengths do not match the frame");
    }
    blobs.push(copy ? Buffer.from(buf.subarray(pos, pos + n)) : buf.subarray(pos, pos + n));
    pos += n;
  }
  if (pos !== end) throw new FrameError("attachment lengths do not match the frame");
  return { header: h, blobs };
}

/** A frame this large is copied into its own buffer as its chunks arrive, not joined at the end. */
const GATHER_FROM = 1024 * 1024;

/** Incremental parser: feed chunks, get whole frames; rejects frames over maxFrame.
 *
 * With transient, every chunk pushed is the caller's to reuse once push() returns (a socket read
 * into one buffer, net's `onread`): what the parser keeps of it (a partial frame) and what it
 * hands out (attachments) is copied. Reading into one buffer spares a 64 KiB allocation per read
 * whose memory glibc often cannot give back after a burst (issue 9, item 14). */
export class FrameParser {
  private chunks: Buffer[] = [];
  /** chunks[transientAt] on were pushed in this call and are not ours to keep (transient). */
  private transientAt = -1;
  /** Where the unparsed bytes begin in chunks[0]. */
  private off = 0;
  private buffered = 0;
  /** A large frame being gathered (length prefix excluded) and how much of it has arrived. */
  private big: Buffer | null = null;
  private bigFilled = 0;

  constructor(
    private readonly maxFrame = DEFAULT_MAX_FRAME,
    private readonly transient = false,
  ) {}

  push(chunk: Buffer): Frame[] {
    const out = this.parse(chunk);
    if (this.transient) this.keep();
    return out;
  }

  /** Copy what is left of this call's transient chunk: it is ours now. */
  private keep(): void {
    const at = this.transientAt;
    this.transientAt = -1;
    if (at < 0 || at >= this.chunks.length) return;
    const c = this.chunks[at];
    const from = at === 0 ? this.off : 0;
    this.chunks[at] = Buffer.from(c.subarray(from));
    if (at === 0) this.off = 0;
  }

  private parse(chunk: Buffer): Frame[] {
    const out: Frame[] = [];
    if (this.big) {
      // Copy as it arrives: the copy overlaps the transfer instead of following it.
      const k = Math.min(chunk.length, this.big.length - this.bigFilled);
      chunk.copy(this.big, this.bigFilled, 0, k);
      this.bigFilled += k;
      if (this.bigFilled < this.big.length) return out;
      const body = this.big;
      this.big = null;
      this.bigFilled = 0;
      out.push(decodeBody(body));
      chunk = chunk.subarray(k);
      if (!chunk.length) return out;
    }
    if (this.transient) this.transientAt = this.chunks.length;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      let first = this.chunks[0];
      if (first.length - this.off < 4) first = this.join();
      const n = first.readUInt32BE(this.off);
      if (n > this.maxFrame) throw new FrameError(`frame of ${n} bytes exceeds limit of ${this.maxFrame}`);
      if (this.buffered < 4 + n) {
        if (n >= GATHER_FROM) this.gather(n);
        break;
      }
      if (first.length - this.off < 4 + n) first = this.join(); // the frame spans chunks
      // Frames are decoded where they lie, without a buffer object of their own.
      const start = this.off + 4;
      out.push(decodeAt(first, start, start + n, this.transientAt === 0));
      this.off = start + n;
      this.buffered -= 4 + n;
      if (this.off === first.length) {
        this.chunks.shift();
        this.off = 0;
        if (this.transientAt >= 0) this.transientAt--;
      }
    }
    return out;
  }

  /** Join the buffered chunks into one (a frame or its length spans them). */
  private join(): Buffer {
    const first = this.chunks[0];
    const parts = this.chunks.slice();
    parts[0] = first.subarray(this.off);
    const joined = Buffer.concat(parts, this.buffered);
    this.chunks = [joined];
    this.off = 0;
    if (this.transientAt >= 0) this.transientAt = -1; // joined is a copy: ours
    return joined;
  }

  /** Start gathering the current (large, incomplete) frame of n bytes into a buffer of its own. */
  private gather(n: number): void {
    const body = Buffer.allocUnsafe(n);
    let filled = 0;
    let skip = this.off + 4; // the length prefix lies wholly in the first chunk (joined above)
    for (const c of this.chunks) {
      c.copy(body, filled, skip);
      filled += c.length - skip;
      skip = 0;
    }
    this.chunks = [];
    this.off = 0;
    this.buffered = 0;
    this.transientAt = -1;
    this.big = body;
    this.bigFilled = filled;
  }
}

/**
 * The fixed part of many requests' headers, encoded once: `{"k":"req","op":OP,<fields>,"i":`.
 * A request made from it costs no header object and no JSON.stringify; only its id (and any
 * per-request text) is written.
 */
export class RequestHead {
  readonly bytes: Buffer;
  constructor(
    readonly op: string,
    fields: Header = {},
  ) {
    const rest = JSON.stringify(fields).slice(1, -1);
    this.bytes = Buffer.from(`{"k":"req","op":${JSON.stringify(op)},${rest}${rest ? "," : ""}"i":`, "utf8");
  }
}

/** Slabs small frames are laid end to end in (one buffer per many frames, not one per frame). */
const SLAB = 64 * 1024;

/**
 * Turns frames into few large buffers: small frames are written end to end into a slab;
 * attachments are passed on as they are (no copy). take() hands over what is pending.
 */
export class FrameWriter {
  private slab = Buffer.allocUnsafeSlow(SLAB);
  private start = 0; // slab[start, used) is pending
  private used = 0;
  private parts: Buffer[] = [];
  /** Bytes pending (not yet taken). */
  pending = 0;

  /** Append one frame. */
  frame(header: Header, blobs: readonly Uint8Array[] = []): void {
    if (blobs.length) header.b = blobs.map((b) => b.byteLength);
    const json = JSON.stringify(header);
    const hlen = Buffer.byteLength(json, "utf8");
    let at = this.room(8 + hlen);
    at = this.lengths(at, hlen, blobs);
    this.slab.write(json, at, hlen, "utf8");
    this.used = at + hlen;
    this.pending += 8 + hlen;
    this.blobs(blobs);
  }

  /** Append a request: head, then its id, then `more` (JSON text of further fields, each
   * starting with a comma), closed by `}`. */
  request(head: RequestHead, id: number, more: string, blobs: readonly Uint8Array[] = []): void {
    if (blobs.length) more += `,"b":[${blobs.map((b) => b.byteLength).join(",")}]`;
    const digits = digitCount(id);
    const moreLen = more.length ? Buffer.byteLength(more, "utf8") : 0;
    const hlen = head.bytes.length + digits + moreLen + 1;
    let at = this.room(8 + hlen);
    at = this.lengths(at, hlen, blobs);
    const slab = this.slab;
    slab.set(head.bytes, at);
    at += head.bytes.length;
    for (let n = id, k = at + digits - 1; k >= at; k--, n = Math.floor(n / 10)) slab[k] = 48 + (n % 10);
    at += digits;
    if (moreLen) at += slab.write(more, at, moreLen, "utf8");
    slab[at++] = 0x7d; // }
    this.used = at;
    this.pending += 8 + hlen;
    this.blobs(blobs);
  }

  /** Everything pending, in order; the writer starts afresh. */
  take(): Buffer[] {
    this.cut();
    const parts = this.parts;
    this.parts = [];
    this.pending = 0;
    return parts;
  }

  /** Where n more bytes go in the slab (a new slab when they do not fit). */
  private room(n: number): number {
    if (this.used + n > this.slab.length) {
      this.cut();
      // The old slab stays alive while its pending bytes are referenced; it is never reused.
      this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB, n));
      this.start = this.used = 0;
    }
    return this.used;
  }

  private lengths(at: number, hlen: number, blobs: readonly Uint8Array[]): number {
    let size = 4 + hlen;
    for (const b of blobs) size += b.byteLength;
    this.slab.writeUInt32BE(size, at);
    this.slab.writeUInt32BE(hlen, at + 4);
    return at + 8;
  }

  private blobs(blobs: readonly Uint8Array[]): void {
    if (!blobs.length) return;
    this.cut();
    for (const b of blobs) {
      this.parts.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      this.pending += b.byteLength;
    }
  }

  /** Move the slab's pending bytes to parts. */
  private cut(): void {
    if (this.used > this.start) {
      this.parts.push(this.slab.subarray(this.start, this.used));
      this.start = this.used;
    }
  }
}

function digitCount(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}
