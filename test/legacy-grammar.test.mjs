// Unit test of pythond 0.4's command grammar (src/daemon/legacy-grammar.ts): the header line's
// words, the optional pysh/pyctl prefix, the body after the first newline, and the code of
// run/fire/fork with its whitespace kept. End to end, byte for byte: session-protocols.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseLegacy, codeOf } from "../dist/legacy-grammar.js";

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
