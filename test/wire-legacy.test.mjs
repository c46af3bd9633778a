// Unit test of pythond 0.4's one codec (src/wire/legacy.ts), which the daemon's adapter and our
// client's 0.4 fallback both use: the command grammar (the header line's words, the optional
// pysh/pyctl prefix, the body after the first newline, the code of run/fire/fork with its
// whitespace kept), commands as the client writes them, and each reply and attach frame read
// back as it was written, garbage refused. End to end, byte for byte: session-protocols,
// remote-compat (our client against a real pythond 0.4).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as wire from "../dist/wire-legacy.js";

const { parseLegacy, codeOf } = wire;

test("the header's words: verb and arguments, any whitespace between them", () => {
  assert.deepEqual(parseLegacy("ls"), { cmd: "ls", args: [], rawAfterName: "", body: undefined });
  assert.deepEqual(parseLegacy("  poll \t w  abc "), { cmd: "poll", args: ["w", "abc"], rawAfterName: " abc ", body: undefined });
  assert.equal(parseLegacy("LS").cmd, "LS", "case is kept: the adapter refuses it");
});

test("a pysh or pyctl prefix is dropped; a prefix alone is an empty command", () => {
  assert.deepEqual(parseLegacy("pysh run w 1"), parseLegacy("run w 1"));
  assert.deepEqual(parseLegacy("pyctl  stop"), parseLegacy("stop"));
  assert.equal(parseLegacy("pysh"), null);
  assert.equal(parseLegacy("pysh pysh").cmd, "pysh", "only one prefix");
});

test("empty and blank frames are no command (no reply)", () => {
  for (const frame of ["", " ", "\n", "\r\n", " \t "]) assert.equal(parseLegacy(frame), null, JSON.stringify(frame));
});

test("a body follows the first newline and is the last argument", () => {
  assert.deepEqual(parseLegacy("run w\nx = 1\ny = 2"), { cmd: "run", args: ["w", "x = 1\ny = 2"], rawAfterName: "", body: "x = 1\ny = 2" });
  assert.equal(parseLegacy("run w\n").body, undefined, "one trailing newline is not a body");
  assert.equal(parseLegacy("run w\n\n").body, "\n", "with a second one, all after the first is the body");
  assert.equal(parseLegacy("run w\r\nprint(1)\r\n").body, "print(1)\n", "CRLF is LF");
});

test("codeOf: inline code keeps its whitespace; inline text before a body is its first line", () => {
  assert.equal(codeOf(parseLegacy("run w print('a  b')")), "print('a  b')");
  assert.equal(codeOf(parseLegacy("run w   x  ")), "  x  ", "one separator is dropped, the rest kept");
  assert.equal(codeOf(parseLegacy("run w\n1/0")), "1/0");
  assert.equal(codeOf(parseLegacy("fire w import time\ntime.sleep(1)")), "import time\ntime.sleep(1)");
  assert.equal(codeOf(parseLegacy("run w")), "");
});

test("garbage parses to a command the adapter refuses, never a throw", () => {
  for (const frame of ["\u0000\u00ff", "\u001b[A", "é中 x", "\n\nbody only", "run\u0000w"]) {
    const c = parseLegacy(frame);
    assert.ok(c === null || (typeof c.cmd === "string" && Array.isArray(c.args)), JSON.stringify(frame));
  }
  assert.equal(parseLegacy("\n\nbody only"), null, "a blank header is no command");
});

test("a command the client encodes is the command the daemon parses", () => {
  assert.equal(wire.encodeCommand("ls"), "ls");
  assert.equal(wire.encodeCommand("poll", ["w", "abc"]), "poll w abc");
  assert.equal(wire.encodeCommand("run", ["w"], "x = 1\n  y = 2\n"), "run w\nx = 1\n  y = 2\n");
  for (const code of ["1", "x = 1\ny = 2", "  indented()", "print('a  b')\n\n", "\n"]) {
    const c = parseLegacy(wire.encodeCommand("fire", ["w"], code));
    assert.equal(c.cmd, "fire");
    assert.equal(c.args[0], "w");
    assert.equal(codeOf(c), code, JSON.stringify(code));
  }
  assert.deepEqual(parseLegacy(wire.encodeCommand("attach", wire.attachWords("w", { rows: 24, cols: 80 }))).args, ["w", "24", "80"]);
  assert.deepEqual(wire.attachWords("w"), ["w"]);
});

test("errors: ERR lines and a worker's JSON error; nothing else is one", () => {
  assert.equal(wire.encodeErr("no session 'w'"), "ERR no session 'w'");
  assert.equal(wire.parseErr(wire.encodeErr("no session 'w'")), "no session 'w'");
  assert.ok(wire.isErr("ERR x") && !wire.isErr("ERROR x") && !wire.isErr("OK"));
  assert.equal(wire.parseErr('{"error": "worker died"}'), "worker died");
  assert.equal(wire.parseErr('{"error": "x", "other": 1}'), undefined, "output that looks like it");
  assert.equal(wire.parseErr('{"error": broken'), undefined);
  for (const reply of ["OK killed w", "", "ERRx", "(no sessions)", "42"]) assert.equal(wire.parseErr(reply), undefined, reply);
});

test("run: output, or output marked as a failed cell; other errors are not the cell's", () => {
  assert.equal(wire.encodeRunReply(true, "2"), "2");
  assert.equal(wire.encodeRunReply(false, "Traceback ...\nZeroDivisionError: x"), "ERR execution failed\nTraceback ...\nZeroDivisionError: x");
  for (const [ok, output] of [[true, "2"], [true, ""], [false, ""], [false, "boom\n"]]) assert.deepEqual(wire.parseRunReply(wire.encodeRunReply(ok, output)), { ok, output });
  assert.equal(wire.parseRunReply("ERR no session 'w'"), undefined);
  assert.equal(wire.parseRunReply('{"error": "worker died"}'), undefined);
});

test("JSON replies use Python's spacing and read back; garbage is not JSON", () => {
  assert.equal(wire.encodeJson({ cell_id: "a1", status: "done" }), '{"cell_id": "a1", "status": "done"}');
  assert.deepEqual(wire.parseJson(wire.encodeJson({ a: [1, "é"] })), { a: [1, "é"] });
  for (const reply of ["", "{", "OK", "\u0000"]) assert.equal(wire.parseJson(reply), undefined, reply);
});

test("new, ls, int, kill and stop replies read back as written", () => {
  assert.equal(wire.encodeNewReply("w", 123), "OK w pid=123");
  assert.deepEqual(wire.parseNewReply(wire.encodeNewReply("w", 123)), { name: "w", pid: 123 });
  assert.equal(wire.parseNewReply("OK w"), undefined);

  const sessions = [{ name: "a", alive: true, pid: 10 }, { name: "b", alive: false, pid: 11 }];
  assert.equal(wire.encodeLsReply(sessions), "  a: alive pid=10 (pty)\n  b: DEAD pid=11 (pty)");
  assert.deepEqual(wire.parseLsReply(wire.encodeLsReply(sessions)), sessions.map((s) => ({ ...s, kind: "pty" })));
  assert.equal(wire.encodeLsReply([]), "(no sessions)");
  assert.deepEqual(wire.parseLsReply("(no sessions)"), []);
  assert.deepEqual(wire.parseLsReply("  r: -> example.org:7000 tls (remote)"), [{ name: "r", alive: true, pid: null, kind: "remote", target: "example.org:7000", tls: true }]);
  assert.deepEqual(wire.parseLsReply("garbage\n\u0000\n  x: maybe"), [], "lines it cannot read are skipped");

  assert.equal(wire.encodeIntReply("w", { threads: 0, processes: 0 }), "OK no running cells in w");
  assert.equal(wire.encodeIntReply("w", { threads: 1, processes: 2 }), "OK int w: 1 thread (best-effort), 2 processes (killed)");
  assert.equal(wire.encodeIntReply("w", { threads: 2, processes: 1 }), "OK int w: 2 threads (best-effort), 1 process (killed)");
  assert.deepEqual(wire.parseIntReply(wire.encodeIntReply("w", { threads: 0, processes: 0 })), { outcome: "idle" });
  assert.deepEqual(wire.parseIntReply(wire.encodeIntReply("w", { threads: 1, processes: 0 })), { outcome: "interrupted", message: "1 thread (best-effort), 0 processes (killed)" });
  assert.equal(wire.parseIntReply("OK killed w"), undefined);

  assert.equal(wire.encodeKillReply("w"), "OK killed w");
  assert.equal(wire.STOP_REPLY, "OK stopping daemon");
});

test("attach: the text frames while attached, and what ends it", () => {
  assert.deepEqual(wire.parseAttachText(wire.DETACH), { op: "detach" });
  assert.deepEqual(wire.parseAttachText(" detach\n"), { op: "detach" });
  assert.deepEqual(wire.parseAttachText(""), { op: "detach" }, "a blank frame detaches, as in 0.4");
  assert.deepEqual(wire.parseAttachText(wire.encodeResize(24, 80)), { op: "resize", rows: 24, cols: 80 });
  assert.deepEqual(wire.parseAttachText("resize  30\t100"), { op: "resize", rows: 30, cols: 100 });
  for (const text of ["resize 24", "resize -1 80", "resize a b", "detach now", '{"op":"detach"}', "\u0000"]) assert.equal(wire.parseAttachText(text), undefined, text);
  assert.equal(wire.ATTACHED_REPLY, "OK attached");
  assert.equal(wire.DETACHED_REPLY, "OK detached");
  assert.equal(wire.DETACHED_REASON, "detached");
  assert.deepEqual([wire.AUTH_FAILED_REPLY, wire.AUTH_FAILED_CODE, wire.AUTH_FAILED_REASON], ["ERR auth failed", 1008, "auth failed"]);
});
