// Attach over raw WebSockets: pythond 0.4's attach sub-protocol byte for byte, the structured
// attach op, garbage and oversized input, and a client that stops reading.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";

/** Reproducible binary garbage without Ctrl-D and Enter, which legitimately detach and submit. */
function garbage(n, seed) {
  const out = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    let b = x >>> 24;
    if (b === 0x04 || b === 0x0d || b === 0x0a) b = 0x07;
    out[i] = b;
  }
  return out;
}
import { setTimeout as sleep } from "node:timers/promises";
import { TestDaemon } from "./helpers/daemon.mjs";

let d;
before(async () => {
  d = new TestDaemon();
  await d.start();
  d.pyshSync("new", "p");
});
after(async () => {
  await d?.cleanup();
});

function open(protocol) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${d.sock}:/`, [protocol], { perMessageDeflate: false, maxPayload: 64 << 20 });
    const frames = [];
    ws.frames = frames;
    ws.on("message", (data, isBinary) => frames.push({ data: Buffer.from(data), isBinary }));
    ws.closed = new Promise((r) => ws.on("close", (code, reason) => r({ code, reason: reason.toString() })));
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

async function until(what, f, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = f();
    if (v) return v;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The screen a client saw: 0.4 frames are raw bytes; structured ones start with u32 id | u8 stream. */
const screenText = (ws, header = 0) => Buffer.concat(ws.frames.filter((f) => f.isBinary).map((f) => f.data.subarray(header))).toString("utf8");
const STRUCTURED = 5;

test("0.4 attach sub-protocol: OK attached, one scrollback frame, live frames <= 4096, resize, detach", async () => {
  d.pyshSync("run", "p", "legacy_value = 'legacy-' + 'ok'");
  const ws = await open("pythond.0.4");
  ws.send("attach nosuch 24 80");
  await until("no-session error", () => ws.frames.length === 1);
  assert.equal(ws.frames[0].data.toString(), "ERR no session 'nosuch'");
  assert.equal(ws.frames[0].isBinary, false);
  ws.frames.length = 0;
  ws.send("attach p 24 80");
  await until("OK attached and scrollback", () => ws.frames.length >= 2);
  assert.deepEqual({ text: ws.frames[0].data.toString(), isBinary: ws.frames[0].isBinary }, { text: "OK attached", isBinary: false });
  assert.equal(ws.frames[1].isBinary, true, "exactly one binary scrollback frame follows");
  assert.match(ws.frames[1].data.toString(), />>> /);
  ws.send(Buffer.from("legacy_value\r"));
  await until("echo and value", () => screenText(ws).includes("'legacy-ok'"));
  ws.send(Buffer.from("print('x' * 10000)\r"));
  await until("long output", () => screenText(ws).replace(/\r\n/g, "").includes("x".repeat(10000)));
  for (const f of ws.frames.slice(2)) assert.ok(f.data.length <= 4096, `live frame of ${f.data.length} bytes`);
  const before = ws.frames.length;
  ws.send("resize 33 77"); // applied without a reply (compat §14.15)
  ws.send("something else"); // other text frames are ignored
  ws.send(Buffer.from("tuple(os.get_terminal_size())\r"));
  await until("new size", () => screenText(ws).includes("(77, 33)"));
  assert.ok(ws.frames.slice(before).every((f) => f.isBinary), "no text reply to resize or other text");
  ws.send("detach");
  await until("OK detached", () => ws.frames.some((f) => !f.isBinary && f.data.toString() === "OK detached"));
  assert.deepEqual(await ws.closed, { code: 1000, reason: "detached" });
  assert.equal(d.pyshSync("run", "p", "legacy_value").trim(), "legacy-ok");
});

test("0.4 attach: session killed closes 1000 'session killed'", async () => {
  d.pyshSync("new", "k");
  const ws = await open("pythond.0.4");
  ws.send("attach k");
  await until("OK attached", () => ws.frames.length >= 2);
  d.pyshSync("kill", "k");
  assert.deepEqual(await ws.closed, { code: 1000, reason: "session killed" });
});

test("structured attach: garbage and oversized frames do not hurt the session; the next attach works", async () => {
  const ws = await open("pythond.json.1");
  ws.send(JSON.stringify({ id: 7, op: "attach", session: "p", rows: 24, cols: 80 }));
  await until("attached", () => ws.frames.some((f) => !f.isBinary && JSON.parse(f.data).event === "attached"));
  for (let i = 0; i < 50; i++) ws.send(garbage(1 + (i * 97) % 3000, i + 1));
  ws.send(Buffer.from("\x1b[\x1b[999999999999;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;;~\x1bO\xff\xfe\xc3"));
  ws.send(Buffer.alloc(2 * 1024 * 1024, 0x41)); // over the 1 MiB keystroke-frame limit
  ws.send(JSON.stringify({ op: "resize", rows: -1, cols: "x" }));
  await until("warnings", () => ws.frames.filter((f) => !f.isBinary && /"warning"/.test(f.data)).length >= 2);
  ws.send(JSON.stringify({ op: "detach" }));
  await until("detached reply", () => ws.frames.some((f) => !f.isBinary && JSON.parse(f.data).id === 7 && JSON.parse(f.data).ok === true));
  ws.close();
  assert.equal(d.pyshSync("run", "p", "6 * 7").trim(), "42");
  const ws2 = await open("pythond.json.1");
  ws2.send(JSON.stringify({ id: 1, op: "attach", session: "p" }));
  await until("attached again", () => ws2.frames.some((f) => !f.isBinary && JSON.parse(f.data).event === "attached"));
  ws2.send(Buffer.from("\x03")); // clear whatever the garbage left on the line
  ws2.send(Buffer.from("'after-' + 'garbage'\r"));
  await until("value after garbage", () => screenText(ws2, STRUCTURED).includes("'after-garbage'")).catch((e) => {
    throw new Error(`${e.message}; the screen ends with ${JSON.stringify(screenText(ws2, STRUCTURED).slice(-600))}`);
  });
  for (const f of ws2.frames.filter((f) => f.isBinary)) {
    assert.equal(f.data.readUInt32BE(0), 1, "screen frames carry the attach request id");
    assert.equal(f.data.readUInt8(4), 3, "stream 3 = screen");
  }
  ws2.close();
});

test("Ctrl-C after half an escape sequence or half a UTF-8 character leaves a clean line", async () => {
  const ws = await open("pythond.json.1");
  ws.send(JSON.stringify({ id: 1, op: "attach", session: "p" }));
  await until("attached", () => ws.frames.some((f) => !f.isBinary && JSON.parse(f.data).event === "attached"));
  for (const [broken, value] of [["abc\x1b[12;", "clean-1"], ["\xfe\xc3", "clean-2"]]) {
    ws.send(Buffer.from(broken, "latin1"));
    ws.send(Buffer.from("\x03"));
    ws.send(Buffer.from(`'${value}'\r`));
    // The value's own line (the echo of the typed line follows the prompt, not a newline).
    await until(value, () => screenText(ws, STRUCTURED).includes(`\n'${value}'\r\n`)).catch((e) => {
      throw new Error(`${e.message}; the screen ends with ${JSON.stringify(screenText(ws, STRUCTURED).slice(-400))}`);
    });
  }
  ws.close();
});

test("a client that stops reading never blocks the session", async () => {
  const ws = await open("pythond.json.1");
  ws.send(JSON.stringify({ id: 1, op: "attach", session: "p" }));
  await until("attached", () => ws.frames.some((f) => !f.isBinary && JSON.parse(f.data).event === "attached"));
  ws.send(Buffer.from("for _ in range(300): print('y' * 100000)\r\r"));
  await sleep(200);
  ws._socket.pause(); // stop reading: 30 MB of screen output pile up for this client
  await until("the daemon drops the client that stopped reading", () => /event=detach .*session=p status=connection/.test(d.log()), 60_000);
  // the session was never blocked: the human cell ran to its end and agent cells run
  assert.equal(d.pyshSync("run", "p", "'still ' + 'fine'").trim(), "still fine");
  const cells = JSON.parse(d.pyshSync("cells", "p")).cells.filter((c) => c.origin === "human");
  assert.ok(cells.length && cells.every((c) => c.state === "done"), "human cells finished");
  ws.terminate();
});
