// Unit test of the structured protocol's one codec (src/wire/structured.ts): request parsing
// refuses garbage with the message a client is told, frames round-trip byte for byte, and the
// attach controls are told apart from ordinary requests. End to end: session-protocols,
// attach-protocol.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as wire from "../dist/wire-structured.js";

test("parseRequest takes {id: u32, op: string, ...} and refuses anything else", () => {
  assert.deepEqual(wire.parseRequest('{"id":7,"op":"run","session":"w","code":"1"}'), { id: 7, op: "run", session: "w", code: "1" });
  const refused = (text, message) => assert.throws(() => wire.parseRequest(text), (e) => e instanceof wire.WireError && e.code === "bad_request" && e.message === message);
  refused("", "request is not JSON");
  refused("{", "request is not JSON");
  refused("\u0000\u00ff garbage", "request is not JSON");
  refused("[1,2]", "request is not a JSON object");
  refused("null", "request is not a JSON object");
  refused('"run"', "request is not a JSON object");
  refused('{"op":"ls"}', '"id" must be an integer from 0 to 4294967295');
  refused('{"id":-1,"op":"ls"}', '"id" must be an integer from 0 to 4294967295');
  refused('{"id":4294967296,"op":"ls"}', '"id" must be an integer from 0 to 4294967295');
  refused('{"id":1.5,"op":"ls"}', '"id" must be an integer from 0 to 4294967295');
  refused('{"id":"1","op":"ls"}', '"id" must be an integer from 0 to 4294967295');
  refused('{"id":1,"op":7}', '"op" must be a string');
});

test("replies, errors and events have the documented shapes, and a client reads them back", () => {
  assert.equal(wire.encodeResult(3, { x: 1 }), '{"id":3,"ok":true,"result":{"x":1}}');
  assert.equal(wire.encodeError(null, { code: "bad_request", message: "m" }), '{"id":null,"ok":false,"error":{"code":"bad_request","message":"m"}}');
  assert.equal(wire.encodeEvent(3, "waiting", { cell_id: "ab", timed_out: true }), '{"id":3,"event":"waiting","cell_id":"ab","timed_out":true}');
  assert.equal(wire.encodeRequest(9, "run", { session: "w", id: 1, op: "x" }), '{"session":"w","id":9,"op":"run"}');
  assert.deepEqual(wire.parseIncoming(wire.encodeResult(3, [1])), { kind: "result", id: 3, result: [1] });
  assert.deepEqual(wire.parseIncoming(wire.encodeEvent(3, "attached", { offset: 5 })), { kind: "event", id: 3, event: "attached", fields: { offset: 5 } });
  assert.deepEqual(wire.parseIncoming('{"id":4,"ok":false}'), { kind: "error", id: 4, error: { code: "internal", message: "unknown error" } });
  for (const junk of ["", "{", "null", "7"]) assert.equal(wire.parseIncoming(junk), undefined, junk);
});

test("output frames: u32be id, u8 stream, bytes; too short to hold a header is no frame", () => {
  const frame = wire.encodeOutput(0x01020304, wire.SCREEN_STREAM, Buffer.from("hi"));
  assert.deepEqual([...frame], [1, 2, 3, 4, 3, 0x68, 0x69]);
  const back = wire.decodeOutput(frame);
  assert.equal(back.id, 0x01020304);
  assert.equal(back.stream, 3);
  assert.equal(back.data.toString(), "hi");
  assert.equal(wire.decodeOutput(Buffer.from([0, 0, 0, 1])), undefined);
  assert.equal(wire.decodeOutput(wire.encodeOutput(5, wire.STDERR_STREAM, Buffer.alloc(0))).data.length, 0);
  assert.deepEqual([wire.STDOUT_STREAM, wire.STDERR_STREAM, wire.SCREEN_STREAM], [1, 2, 3]);
});

test("attach controls: resize and detach (with or without an id); anything else is not one", () => {
  assert.equal(wire.encodeResize(24, 80), '{"op":"resize","rows":24,"cols":80}');
  assert.equal(wire.encodeDetach(), '{"op":"detach"}');
  assert.deepEqual(wire.parseAttachControl(wire.encodeResize(24, 80)), { op: "resize", id: undefined, rows: 24, cols: 80 });
  assert.deepEqual(wire.parseAttachControl('{"op":"detach","id":4}'), { op: "detach", id: 4 });
  for (const other of ['{"id":1,"op":"ls"}', "detach", "", "null", "[]"]) assert.equal(wire.parseAttachControl(other), undefined, other);
});
