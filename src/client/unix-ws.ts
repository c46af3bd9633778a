// A minimal RFC 6455 WebSocket client over a Unix socket (or, for a remote daemon, over a TCP
// or TLS socket that client/remote.ts has opened and checked): what Client needs and nothing more.
//
// Why not `ws`: importing ws pulls node:http/https/tls/zlib into every `pysh` call, ~30 ms of
// a ~90 ms one-shot `pysh run` (measured with `node --cpu-prof`, see docs/PERFORMANCE.md
// "Sessions"). This file needs only node:net, node:events and node:fs (cheap to load). The daemon
// keeps using ws for its server side.
//
// Scope: client side only, no extensions (no permessage-deflate), one subprotocol. Frames from
// the server must be unmasked, RSV bits clear, control frames <= 125 bytes and unfragmented;
// text messages must be valid UTF-8; messages above maxPayload fail the connection (1009).
// Frames we send are masked with a fresh random key, as the RFC requires of clients.
import { connect as netConnect, type Socket } from "node:net";
import { EventEmitter } from "node:events";
import { isUtf8 } from "node:buffer";
import { randomFill } from "../util/random.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_HANDSHAKE = 16 * 1024;
const CLOSE_GRACE_MS = 2000;
const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export interface UnixWsOptions {
  /** Subprotocols offered, preferred first; the server's choice is `ws.protocol`. */
  protocols: string[];
  maxPayload: number;
  handshakeTimeout: number;
  /** Extra request headers (Authorization for a TCP daemon). */
  headers?: Record<string, string>;
  /** The Host header (default localhost). */
  host?: string;
}

// node:crypto costs ~5 ms to load (it pulls in webcrypto, ciphers, keys, x509), a sixth of what
// pysh adds to a bare node start. We need only 16 random bytes per connection and 4 per frame
// (util/random.ts reads them from /dev/urandom), and one SHA-1 of 60 bytes to check the server's
// handshake answer: the small function below.
/** SHA-1 (FIPS 180-4) of a short byte string, as base64: the Sec-WebSocket-Accept check. */
export function sha1Base64(data: Buffer): string {
  const n = data.length;
  const padded = Buffer.alloc(((n + 8) >> 6) * 64 + 64);
  data.copy(padded);
  padded[n] = 0x80;
  padded.writeUInt32BE(Math.floor((n * 8) / 2 ** 32), padded.length - 8);
  padded.writeUInt32BE((n * 8) >>> 0, padded.length - 4);
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = new Int32Array(80);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = padded.readInt32BE(off + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      const f = i < 20 ? (b & c) | (~b & d) : i < 40 ? b ^ c ^ d : i < 60 ? (b & c) | (b & d) | (c & d) : b ^ c ^ d;
      const k = i < 20 ? 0x5a827999 : i < 40 ? 0x6ed9eba1 : i < 60 ? 0x8f1bbcdc : 0xca62c1d6;
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = Buffer.allocUnsafe(20);
  [h0, h1, h2, h3, h4].forEach((h, i) => out.writeInt32BE(h, i * 4));
  return out.toString("base64");
}

class ProtocolError extends Error {
  constructor(message: string, readonly closeCode: number) {
    super(message);
  }
}

/**
 * Events: "message" (data: Buffer, isBinary: boolean), "close" (code: number, reason: Buffer),
 * "error" (err: Error). "close" is emitted exactly once, when the socket is gone.
 */
export class UnixWebSocket extends EventEmitter {
  private open = true;
  private sentClose = false;
  private gotClose = false;
  private closeCode = 1006;
  private closeReason: Buffer = Buffer.alloc(0);
  // Received bytes not parsed yet, as a list so big frames are copied at most once.
  private chunks: Buffer[] = [];
  private buffered = 0;
  // A fragmented message being assembled.
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentOp = 0;

  private constructor(private readonly sock: Socket, private readonly maxPayload: number, readonly protocol: string) {
    super();
    sock.setNoDelay?.(true);
    sock.on("data", (d: Buffer) => this.onData(d));
    sock.on("error", (e) => this.emit("error", e));
    sock.on("close", () => {
      this.open = false;
      this.emit("close", this.closeCode, this.closeReason);
    });
  }

  get isOpen(): boolean {
    return this.open && !this.sentClose;
  }

  /** Connect and finish the opening handshake; rejects with the net error (code ENOENT, ...) or a handshake error. */
  static connect(path: string, opts: UnixWsOptions): Promise<UnixWebSocket> {
    return UnixWebSocket.over(netConnect(path), false, opts);
  }

  /**
   * The opening handshake over a stream socket: one being connected (ready = false: the
   * request goes out on "connect"), or one already connected and checked (ready = true).
   */
  static over(sock: Socket, ready: boolean, opts: UnixWsOptions): Promise<UnixWebSocket> {
    return new Promise((resolve, reject) => {
      const key = randomFill(Buffer.alloc(16)).toString("base64");
      let head: Buffer = Buffer.alloc(0);
      const fail = (e: Error) => {
        clearTimeout(timer);
        sock.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new Error("opening handshake timed out")), opts.handshakeTimeout);
      sock.on("error", fail);
      sock.on("close", () => fail(new Error("connection closed during the opening handshake")));
      const request = () => {
        let extra = "";
        for (const [k, v] of Object.entries(opts.headers ?? {})) extra += `${k}: ${v}\r\n`;
        sock.write(
          `GET / HTTP/1.1\r\nHost: ${opts.host ?? "localhost"}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${opts.protocols.join(", ")}\r\n${extra}\r\n`,
        );
      };
      if (ready) request();
      else sock.once("connect", request);
      const onData = (d: Buffer) => {
        head = head.length ? Buffer.concat([head, d]) : d;
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.length > MAX_HANDSHAKE) fail(new Error("handshake response too large"));
          return;
        }
        const lines = head.subarray(0, end).toString("latin1").split("\r\n");
        const headers = new Map<string, string>();
        for (const line of lines.slice(1)) {
          const i = line.indexOf(":");
          if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
        }
        const accept = sha1Base64(Buffer.from(key + GUID, "latin1"));
        let problem = "";
        const chosen = headers.get("sec-websocket-protocol") ?? "";
        if (!/^HTTP\/1\.1 101( |$)/.test(lines[0])) {
          problem = `unexpected server response: ${lines[0].slice(0, 200)}`;
          // A short plain-text body says why (a TLS port answering plain HTTP names the fix).
          const body = head.subarray(end + 4, end + 4 + 200).toString("latin1").trim();
          if (body && /^[\x20-\x7e]+$/.test(body)) problem += ` (${body})`;
        } else if (headers.get("upgrade")?.toLowerCase() !== "websocket") problem = "invalid Upgrade header";
        else if (headers.get("sec-websocket-accept") !== accept) problem = "invalid Sec-WebSocket-Accept header";
        else if (!opts.protocols.includes(chosen)) problem = "server did not accept the subprotocol";
        else if (headers.has("sec-websocket-extensions")) problem = "server sent an extension we did not offer";
        if (problem) return fail(new Error(problem));
        clearTimeout(timer);
        sock.removeAllListeners();
        const ws = new UnixWebSocket(sock, opts.maxPayload, chosen);
        resolve(ws);
        // Frames that came with the handshake: queue them now (order kept with later data)
        // but parse them on the next turn, once the caller has its listeners attached.
        const rest = head.subarray(end + 4);
        if (rest.length) {
          ws.chunks.push(rest);
          ws.buffered += rest.length;
          setImmediate(() => ws.onData(null));
        }
      };
      sock.on("data", onData);
    });
  }

  /** Send a text (string) or binary (Buffer) message. Ignored once closing, as ws does not throw here either. */
  send(data: string | Buffer): void {
    if (!this.isOpen) return;
    const binary = typeof data !== "string";
    this.writeFrame(binary ? OP_BINARY : OP_TEXT, binary ? data : Buffer.from(data, "utf8"));
  }

  /** A ping (RFC 6455 5.5.2): the server's pong comes as a "pong" event with the same payload. */
  ping(payload: Buffer = Buffer.alloc(0)): void {
    if (this.isOpen) this.writeFrame(OP_PING, payload);
  }

  /** Start the closing handshake; the socket ends when the server answers (or after a grace period). */
  close(code = 1000, reason = ""): void {
    if (!this.open || this.sentClose) return;
    const r = Buffer.from(reason, "utf8");
    const payload = Buffer.allocUnsafe(2 + r.length);
    payload.writeUInt16BE(code, 0);
    r.copy(payload, 2);
    this.writeFrame(OP_CLOSE, payload);
    this.sentClose = true;
    if (this.gotClose) this.sock.end();
    else setTimeout(() => this.sock.destroy(), CLOSE_GRACE_MS).unref();
  }

  private writeFrame(op: number, payload: Buffer): void {
    const n = payload.length;
    const hlen = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(hlen + 4 + n);
    frame[0] = 0x80 | op;
    if (n < 126) frame[1] = 0x80 | n;
    else if (n < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(n, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
      frame.writeUInt32BE(n >>> 0, 6);
    }
    const m = hlen;
    randomFill(frame, m, 4);
    for (let i = 0; i < n; i++) frame[m + 4 + i] = payload[i] ^ frame[m + (i & 3)];
    this.sock.write(frame);
  }

  /** Take exactly n buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first.length === n) {
      this.chunks.shift();
    } else if (first.length > n) {
      this.chunks[0] = first.subarray(n);
    } else {
      const out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
      this.buffered -= n;
      return out;
    }
    this.buffered -= n;
    return first.length === n ? first : first.subarray(0, n);
  }

  /** Byte i of the buffered data (i < buffered). */
  private peek(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i];
      i -= c.length;
    }
    return 0;
  }

  private onData(d: Buffer | null): void {
    if (this.gotClose) return;
    if (d) {
      this.chunks.push(d);
      this.buffered += d.length;
    }
    try {
      while (this.parseFrame());
    } catch (e) {
      const pe = e as ProtocolError;
      this.fail(pe.closeCode ?? 1002, pe.message);
    }
  }

  /** Parse one frame if it is complete; false when more bytes are needed. */
  private parseFrame(): boolean {
    if (this.buffered < 2 || this.gotClose) return false;
    const b0 = this.peek(0);
    const b1 = this.peek(1);
    const fin = (b0 & 0x80) !== 0;
    const op = b0 & 0x0f;
    if (b0 & 0x70) throw new ProtocolError("RSV bits set", 1002);
    if (b1 & 0x80) throw new ProtocolError("server frames must not be masked", 1002);
    let len = b1 & 0x7f;
    let hlen = 2;
    if (len === 126) {
      if (this.buffered < 4) return false;
      len = (this.peek(2) << 8) | this.peek(3);
      hlen = 4;
    } else if (len === 127) {
      if (this.buffered < 10) return false;
      const hi = ((this.peek(2) << 24) >>> 0) + (this.peek(3) << 16) + (this.peek(4) << 8) + this.peek(5);
      const lo = ((this.peek(6) << 24) >>> 0) + (this.peek(7) << 16) + (this.peek(8) << 8) + this.peek(9);
      if (hi > 0x1fffff) throw new ProtocolError("frame length out of range", 1009);
      len = hi * 2 ** 32 + lo;
      hlen = 10;
    }
    const control = op >= 0x8;
    if (control && (!fin || len > 125)) throw new ProtocolError("invalid control frame", 1002);
    if (!control && len + this.fragmentBytes > this.maxPayload) throw new ProtocolError("message too big", 1009);
    if (this.buffered < hlen + len) return false;
    this.take(hlen);
    const payload = len ? this.take(len) : Buffer.alloc(0);
    if (control) this.onControl(op, payload);
    else this.onDataFrame(op, fin, payload);
    return true;
  }

  private onDataFrame(op: number, fin: boolean, payload: Buffer): void {
    if (op === OP_CONT) {
      if (!this.fragmentOp) throw new ProtocolError("unexpected continuation frame", 1002);
    } else if (op === OP_TEXT || op === OP_BINARY) {
      if (this.fragmentOp) throw new ProtocolError("new message inside a fragmented one", 1002);
      if (fin) return this.deliver(op, payload);
      this.fragmentOp = op;
    } else {
      throw new ProtocolError(`unknown opcode ${op}`, 1002);
    }
    this.fragments.push(payload);
    this.fragmentBytes += payload.length;
    if (!fin) return;
    const whole = Buffer.concat(this.fragments, this.fragmentBytes);
    const kind = this.fragmentOp;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.fragmentOp = 0;
    this.deliver(kind, whole);
  }

  private deliver(op: number, data: Buffer): void {
    if (op === OP_TEXT && !isUtf8(data)) throw new ProtocolError("invalid UTF-8 in a text message", 1007);
    this.emit("message", data, op === OP_BINARY);
  }

  private onControl(op: number, payload: Buffer): void {
    if (op === OP_PING) {
      if (this.isOpen) this.writeFrame(OP_PONG, payload);
    } else if (op === OP_CLOSE) {
      if (payload.length === 1) throw new ProtocolError("invalid close frame", 1002);
      this.gotClose = true;
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.closeReason = payload.subarray(2);
      if (!this.sentClose) this.close(this.closeCode === 1005 ? 1000 : this.closeCode);
      else this.sock.end();
    } else if (op === OP_PONG) {
      this.emit("pong", payload);
    } else {
      throw new ProtocolError(`unknown opcode ${op}`, 1002);
    }
  }

  /** Fail the connection: a close frame with the code if we can, then drop the socket. */
  private fail(code: number, message: string): void {
    this.closeCode = code;
    this.closeReason = Buffer.from(message);
    if (this.isOpen) {
      const payload = Buffer.allocUnsafe(2);
      payload.writeUInt16BE(code, 0);
      this.writeFrame(OP_CLOSE, payload);
      this.sentClose = true;
    }
    this.gotClose = true;
    this.emit("error", new Error(message));
    this.sock.end();
    setTimeout(() => this.sock.destroy(), CLOSE_GRACE_MS).unref();
  }
}
