// Both WebSocket protocols through raw sockets: pythond 0.4's text protocol byte for byte,
// our structured protocol, and garbage of every kind.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { TestDaemon, openWs } from "./helpers/daemon.mjs";

const d = new TestDaemon({ PYTHOND_MAX_MESSAGE: String(2 * 1024 * 1024) });
before(() => d.start());
after(() => d.cleanup());

test("0.4 text protocol: replies are byte-exact", async () => {
  const ws = await d.ws(["pythond.0.4"]);
  assert.equal(ws.protocol, "pythond.0.4");
  assert.equal(await ws.ask("ls"), "(no sessions)");
  assert.match(await ws.ask("new w"), /^OK w pid=\d+$/);
  assert.match(await ws.ask("pysh ls"), /^  w: alive pid=\d+ \(pty\)$/, "a pysh prefix is accepted");
  assert.equal(await ws.ask("run w\nx = 41"), "", "no output is an empty frame");
  assert.equal(await ws.ask("run w x + 1"), "42");
  assert.equal(await ws.ask("run w print('a  b')"), "a  b", "inline code keeps its whitespace");
  assert.equal(await ws.ask("run w\r\nprint('crlf')\r\n"), "crlf");
  assert.equal(await ws.ask("run w\n'hello'"), "hello");
  assert.equal(await ws.ask("run w\n1/0"), 'ERR execution failed\nTraceback (most recent call last):\n  File "<cell-6>", line 1, in <module>\n    1/0\n     ~^~\nZeroDivisionError: division by zero');
  assert.equal(await ws.ask("run w\n"), "ERR run requires code");
  assert.equal(await ws.ask("status w"), '{"state": "idle", "running": [], "vars": 12, "cells": 6}');
  assert.equal(await ws.ask("complete w x"), '{"matches": ["x"]}');
  assert.equal(await ws.ask("complete w"), '{"matches": [""]}');
  assert.equal(await ws.ask("vars w extra args ignored"), '{"vars": ["os", "sys", "json", "time", "re", "subprocess", "shutil", "hashlib", "glob", "sqlite3", "socket", "x"]}');
  assert.equal(await ws.ask("run w\n'\\u00e9\\u4e2d'"), "é中");
  assert.equal(await ws.ask("run nosuch 1"), "ERR no session 'nosuch' -- create it first with: new nosuch");
  assert.equal(await ws.ask("run"), "ERR need session name");
  assert.equal(await ws.ask("LS"), "ERR unknown: LS", "commands are case-sensitive");
  for (const cmd of ["constructor", "toString", "__proto__", "hasOwnProperty"]) assert.equal(await ws.ask(`${cmd} w`), `ERR unknown: ${cmd}`, cmd);
  assert.equal(await ws.ask("ls extra"), "ERR usage: ls");
  assert.equal(await ws.ask("new Bad"), "ERR invalid session name");
  assert.equal(await ws.ask("new w2 python"), "ERR new takes a name only (got extra: python). sessions are always Python");
  assert.equal(await ws.ask("help x"), "ERR usage: help");
  assert.match(await ws.ask("help"), /^pythond 0\.4\.0 raw WebSocket protocol\n[\s\S]*Commands:[\s\S]*Notes:\npysh\/pyctl prefixes are accepted but not required\.\nWebSocket is message-framed, not a terminal stream\.\nEmpty frames are ignored; no prompt is emitted\.$/);
  assert.equal(await ws.ask("int w"), "OK no running cells in w");
  assert.equal(await ws.ask("kill nosuch"), "ERR no session 'nosuch'");
  assert.equal(await ws.ask("stop now"), "ERR usage: pyctl stop", "stop with args refuses and keeps the daemon");
  assert.equal(await ws.ask("ls").then((t) => t.startsWith("  w: alive")), true);
  ws.close();
});

test("0.4 text protocol: empty frames get no reply; replies keep order", async () => {
  const ws = await d.ws(["pythond.0.4"]);
  ws.send("");
  ws.send("   \n");
  ws.send("new order");
  ws.send("run order\nimport time; time.sleep(0.3); 'slow'");
  ws.send("run order\n'fast'");
  assert.match((await ws.next()).text, /^OK order pid=/);
  assert.equal((await ws.next()).text, "slow");
  assert.equal((await ws.next()).text, "fast");
  ws.close();
});

test("0.4 text protocol: fire then poll, with 0.4's JSON shapes", async () => {
  const ws = await d.ws(["pythond.0.4"]);
  await ws.ask("new fp");
  const fired = JSON.parse(await ws.ask("fire fp\nimport time; time.sleep(0.2); print('bg')"));
  assert.match(fired.cell_id, /^[0-9a-f]{12}$/);
  assert.equal(fired.status, "fired");
  let polled;
  for (let i = 0; i < 100; i++) {
    polled = await ws.ask(`poll fp ${fired.cell_id}`);
    if (polled.includes('"done"')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(polled, `{"cell_id": "${fired.cell_id}", "status": "done", "output": "bg"}`);
  assert.equal(await ws.ask("poll fp 000000000000"), '{"cell_id": "000000000000", "status": "error", "output": "unknown cell"}');
  ws.close();
});

test("0.4 text protocol: a binary frame is refused with ERR and close 1008", async () => {
  const ws = await d.ws(["pythond.0.4"]);
  ws.send(Buffer.from([0, 1, 2, 3]), { binary: true });
  assert.equal((await ws.next()).text, "ERR binary frame not allowed in command mode");
  const closed = await ws.closed;
  assert.equal(closed.code, 1008);
  assert.equal(closed.reason, "binary frame not allowed");
});

test("a handshake without our subprotocols gets HTTP 400", async () => {
  await assert.rejects(openWs(d.sock, []), (e) => e.status === 400);
  await assert.rejects(openWs(d.sock, ["something.else"]), (e) => e.status === 400);
  const status = await new Promise((resolve) => {
    const req = request({ socketPath: d.sock, path: "/" }, (res) => resolve(res.statusCode));
    req.end();
  });
  assert.equal(status, 426, "plain HTTP is told to upgrade");
});

test("a message over the configured limit closes with 1009; the daemon lives on", async () => {
  const ws = await d.ws(["pythond.0.4"]);
  ws.send("run w\n#" + "x".repeat(3 * 1024 * 1024));
  const closed = await ws.closed;
  assert.equal(closed.code, 1009);
  const again = await d.ws(["pythond.0.4"]);
  assert.match(await again.ask("ls"), /w: alive/);
  again.close();
});

test("structured protocol: requests, streamed output and typed errors", async () => {
  const ws = await d.ws(["pythond.json.1"]);
  const ask = async (obj) => {
    ws.send(JSON.stringify(obj));
    const binary = [];
    const events = [];
    for (;;) {
      const m = await ws.next();
      if (m === null) throw new Error("connection closed");
      if (m.binary) {
        binary.push(m.data);
        continue;
      }
      const j = JSON.parse(m.text);
      if (j.event) events.push(j);
      else return { ...j, binary, events };
    }
  };
  const hello = await ask({ id: 1, op: "hello" });
  assert.equal(hello.ok, true);
  assert.equal(hello.result.server, "pythond");
  const created = await ask({ id: 2, op: "new", session: "st" });
  assert.equal(created.ok, true);
  const r = await ask({ id: 3, op: "run", session: "st", code: "import sys\nprint('out')\nprint('err', file=sys.stderr)\n5" });
  assert.equal(r.id, 3);
  assert.equal(r.result.ok, true);
  assert.equal(r.result.value, "5");
  const frames = r.binary.map((b) => ({ id: b.readUInt32BE(0), stream: b[4], text: b.subarray(5).toString() }));
  assert.ok(frames.every((f) => f.id === 3));
  assert.equal(frames.filter((f) => f.stream === 1).map((f) => f.text).join(""), "out\n5\n");
  assert.equal(frames.filter((f) => f.stream === 2).map((f) => f.text).join(""), "err\n");
  const dup = await ask({ id: 4, op: "new", session: "st" });
  assert.deepEqual([dup.ok, dup.error.code], [false, "exists"]);
  const missing = await ask({ id: 5, op: "run", session: "ghost", code: "1" });
  assert.deepEqual([missing.ok, missing.error.code], [false, "no_session"]);
  const unknown = await ask({ id: 6, op: "frobnicate" });
  assert.deepEqual([unknown.ok, unknown.error.code], [false, "unknown_op"]);
  // Names every JavaScript object inherits are not verbs either.
  for (const op of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
    const inherited = await ask({ id: 6, op });
    assert.deepEqual([inherited.ok, inherited.error], [false, { code: "unknown_op", message: `unknown op: ${op}` }], op);
  }
  const badType = await ask({ id: 7, op: "run", session: "st", code: 5 });
  assert.deepEqual([badType.ok, badType.error.code], [false, "bad_request"]);
  // A client may name its cell (to poll it after giving up waiting); names are checked.
  const named = await ask({ id: 8, op: "run", session: "st", code: "'named'", cell: "00112233aabb" });
  assert.deepEqual([named.ok, named.result.cell_id, named.result.value], [true, "00112233aabb", "named"]);
  const reused = await ask({ id: 9, op: "run", session: "st", code: "1", cell: "00112233aabb" });
  assert.deepEqual([reused.ok, reused.error.code], [false, "bad_request"]);
  assert.match(reused.error.message, /already in use/);
  for (const cell of ["XYZ", "00112233AABB", "0011223344", 12]) {
    const bad = await ask({ id: 10, op: "run", session: "st", code: "1", cell });
    assert.deepEqual([bad.ok, bad.error.code], [false, "bad_request"], String(cell));
  }
  // stdin, when given, must be a string: what the cell's input() reads.
  for (const stdin of [5, null, ["a"], { a: 1 }]) {
    const bad = await ask({ id: 10, op: "run", session: "st", code: "1", stdin });
    assert.deepEqual([bad.ok, bad.error.code], [false, "bad_request"], JSON.stringify(stdin));
  }
  const fed = await ask({ id: 10, op: "run", session: "st", code: "input() + '!'", stdin: "fed\n" });
  assert.deepEqual([fed.ok, fed.result.value], [true, "fed!"]);
  const polled = await ask({ id: 11, op: "poll", session: "st", cell: "00112233aabb" });
  assert.deepEqual([polled.result.state, polled.result.output], ["done", "named\n"]);
  // A session whose agent dies is a typed error, during the cell and after it.
  const crash = await ask({ id: 12, op: "run", session: "st", code: "import os; os._exit(3)" });
  assert.deepEqual([crash.ok, crash.error.code], [false, "session_dead"]);
  assert.match(crash.error.message, /^session 'st' dead \(exited with status 3\) -- pysh restart st starts it again with the same --python, --cwd and --env$/);
  const after = await ask({ id: 13, op: "vars", session: "st" });
  assert.deepEqual([after.ok, after.error.code], [false, "session_dead"]);
  ws.close();
});

test("structured protocol: garbage requests get errors, never a crash", async () => {
  const ws = await d.ws(["pythond.json.1"]);
  for (const junk of ["not json", "[1,2]", "null", '{"op":"ls"}', '{"id":-1,"op":"ls"}', '{"id":1.5,"op":"ls"}', '{"id":1,"op":7}']) {
    ws.send(junk);
    const reply = JSON.parse((await ws.next()).text);
    assert.equal(reply.ok, false, junk);
    assert.equal(reply.error.code, "bad_request", junk);
  }
  ws.send(Buffer.from("\x00\xffbinary"), { binary: true });
  const bin = JSON.parse((await ws.next()).text);
  assert.equal(bin.ok, false);
  ws.send(JSON.stringify({ id: 9, op: "ls" }));
  const ls = JSON.parse((await ws.next()).text);
  assert.equal(ls.ok, true, "the connection still works");
  ws.close();
});
