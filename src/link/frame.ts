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
  if (body.length < 4) throw new FrameError("frame shorter than its header length");
  const hlen = body.readUInt32BE(0);
  if (4 + hlen > body.length) throw new FrameError("header length beyond frame");
  let header: unknown;
  try {
    header = JSON.parse(body.toString("utf8", 4, 4 + hlen));
  } catch (e) {
    throw new FrameError(`header is not JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new FrameError("header is not an object");
  }
  const h = header as Header;
  const blobs: Buffer[] = [];
  let pos = 4 + hlen;
  if (h.b !== undefined) {
    if (!Array.isArray(h.b)) throw new FrameError("attachment lengths are not a list");
    for (const n of h.b) {
      if (!Number.isInteger(n) || n < 0 || pos + n > body.length) {
        throw new FrameError("attachment lengths do not match the frame");
      }
      blobs.push(body.subarray(pos, pos + n));
      pos += n;
    }
  }
  if (pos !== body.length) throw new FrameError("attachment lengths do not match the frame");
  return { header: h, blobs };
}

/** A frame this large is copied into its own buffer as its chunks arrive, not joined at the end. */
const GATHER_FROM = 1024 * 1024;

/** Incremental parser: feed chunks, get whole frames; rejects frames over maxFrame. */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;
  /** A large frame being gathered (length prefix excluded) and how much of it has arrived. */
  private big: Buffer | null = null;
  private bigFilled = 0;

  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  push(chunk: Buffer): Frame[] {
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
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const head = this.peek(4);
        const n = head.readUInt32BE(0);
        if (n > this.maxFrame) throw new FrameError(`frame of ${n} bytes exceeds limit of ${this.maxFrame}`);
        this.need = n;
      }
      if (this.buffered < 4 + this.need) {
        if (this.need >= GATHER_FROM) this.gather();
        break;
      }
      const whole = this.take(4 + this.need);
      this.need = -1;
      out.push(decodeBody(whole.subarray(4)));
    }
    return out;
  }

  /** Start gathering the current (large, incomplete) frame into a buffer of its own. */
  private gather(): void {
    this.take(4);
    const body = Buffer.allocUnsafe(this.need);
    let filled = 0;
    for (const c of this.chunks) {
      c.copy(body, filled);
      filled += c.length;
    }
    this.chunks = [];
    this.buffered = 0;
    this.need = -1;
    this.big = body;
    this.bigFilled = filled;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    let first = this.chunks[0];
    if (first.length < n) {
      first = Buffer.concat(this.chunks, this.buffered);
      this.chunks = [first];
    }
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}
