// The CLI's own small WebSocket client (src/client/unix-ws.ts) against a real ws server on a
// Unix socket: handshake checks, text/binary both ways, masking, fragments, ping/pong, close
// codes, size limit, and raw servers that break the protocol.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createServer as netServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import { UnixWebSocket } from "../dist/unix-ws.js";

const PROTO = "pythond.json.1";
let dir, sock, http, wss;
const opts = (extra = {}) => ({ protocols: [PROTO], maxPayload: 1 << 20, handshakeTimeout: 2000, ...extra });
const once = (em, ev) => new Promise((r) => em.once(ev, (...a) => r(a)));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "uws-"));
  sock = join(dir, "s.sock");
  http = createServer();
  wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 8 << 20, handleProtocols: (p) => (p.has(PROTO) ? PROTO : false) });
  // Echo server with a few commands.
  wss.on("connection", (ws) => {
    ws.on("message", (data, isBinary) => {
      const s = isBinary ? "" : data.toString();
      if (s === "close-4001") ws.close(4001, "bye");
      else if (s === "ping") ws.ping(Buffer.from("p!"));
      else if (s === "big") ws.send(Buffer.alloc(2 << 20, 7), { binary: true });
      else if (s === "fragments") {
        ws.send("ab", { fin: false });
        ws.send("cd", { fin: false });
        ws.send("ef", { fin: true });
      } else ws.send(data, { binary: isBinary });
    });
    ws.on("pong", (d) => ws.send(`pong:${d}`));
  });
  await new Promise((r) => http.listen(sock, r));
});

after(() => {
  for (const c of wss.clients) c.terminate();
  http.close();
  rmSync(dir, { recursive: true, force: true });
});

test("text and binary echo, all three length encodings", async () => {
  const ws = await UnixWebSocket.connect(sock, opts());
  for (const size of [0, 5, 125, 126, 65535, 65536, 300_000]) {
    const text = "é".repeat(size >> 1);
    ws.send(text);
    const [d, bin] = await once(ws, "message");
    assert.equal(bin, false);
    assert.equal(d.toString("utf8"), text);
    const blob = Buffer.alloc(size, 0xab);
    blob[0] = 1;
    ws.send(blob);
    const [b, bin2] = await once(ws, "message");
    assert.equal(bin2, true);
    assert.deepEqual(b, blob);
  }
  ws.close();
  const [code] = await once(ws, "close");
  assert.equal(code, 1000);
});

test("fragmented message is reassembled; ping is answered with pong", async () => {
  const ws = await UnixWebSocket.connect(sock, opts());
  ws.send("fragments");
  assert.equal((await once(ws, "message"))[0].toString(), "abcdef");
  ws.send("ping");
  assert.equal((await once(ws, "message"))[0].toString(), "pong:p!");
  ws.close();
  await once(ws, "close");
});

test("server close code and reason reach the close event", async () => {
  const ws = await UnixWebSocket.connect(sock, opts());
  ws.send("close-4001");
  const [code, reason] = await once(ws, "close");
  assert.equal(code, 4001);
  assert.equal(reason.toString(), "bye");
  assert.equal(ws.isOpen, false);
});

test("a message above maxPayload fails the connection with 1009", async () => {
  const ws = await UnixWebSocket.connect(sock, opts({ maxPayload: 1 << 20 }));
  ws.on("error", () => {});
  ws.send("big");
  const [code] = await once(ws, "close");
  assert.equal(code, 1009);
});

test("connect errors keep their errno code; wrong subprotocol is refused", async () => {
  await assert.rejects(UnixWebSocket.connect(join(dir, "absent.sock"), opts()), (e) => e.code === "ENOENT");
  await assert.rejects(UnixWebSocket.connect(sock, opts({ protocols: ["other"] })), /unexpected server response|subprotocol/);
});

// A raw server that answers the handshake with whatever `reply` returns.
async function rawServer(reply) {
  const path = join(dir, `raw-${Math.random().toString(36).slice(2)}.sock`);
  const srv = netServer((c) => {
    let buf = "";
    let answered = false;
    c.on("data", (d) => {
      buf += d.toString("latin1");
      if (!answered && buf.includes("\r\n\r\n")) {
        answered = true;
        reply(c, /Sec-WebSocket-Key: (\S+)/.exec(buf)[1]);
      }
    });
    c.on("error", () => {});
  });
  await new Promise((r) => srv.listen(path, r));
  return { path, close: () => srv.close() };
}

test("bad handshakes are rejected: wrong accept, non-101, silence (timeout)", async () => {
  const bad = await rawServer((c) => c.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\nSec-WebSocket-Protocol: pythond.json.1\r\n\r\n"));
  await assert.rejects(UnixWebSocket.connect(bad.path, opts()), /Sec-WebSocket-Accept/);
  bad.close();
  const http400 = await rawServer((c) => c.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
  await assert.rejects(UnixWebSocket.connect(http400.path, opts()), /400/);
  http400.close();
  const silent = await rawServer(() => {});
  await assert.rejects(UnixWebSocket.connect(silent.path, opts({ handshakeTimeout: 200 })), /timed out/);
  silent.close();
});

test("a masked server frame is a protocol error (1002)", async () => {
  const { createHash } = await import("node:crypto");
  const srv = await rawServer((c, key) => {
    const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
    c.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: pythond.json.1\r\n\r\n`);
    c.write(Buffer.from([0x81, 0x81, 0, 0, 0, 0, 0x41]));
  });
  const ws = await UnixWebSocket.connect(srv.path, opts());
  const errors = [];
  ws.on("error", (e) => errors.push(e.message));
  const [code] = await once(ws, "close");
  assert.equal(code, 1002);
  assert.match(errors[0], /masked/);
  srv.close();
});

test("SHA-1 for the handshake check matches node:crypto (RFC 6455 example included)", async () => {
  const { createHash, randomBytes } = await import("node:crypto");
  const { sha1Base64 } = await import("../dist/unix-ws.js");
  assert.equal(sha1Base64(Buffer.from("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  for (const n of [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 1000]) {
    const b = randomBytes(n);
    assert.equal(sha1Base64(b), createHash("sha1").update(b).digest("base64"), `length ${n}`);
  }
});
