// The frame parser of the agent link (unit): frames of every size, split at every kind of
// boundary, come out whole and in order; large ones are gathered as they arrive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import { Link } from "../dist/index.js";

function frame(header, blobs = []) {
  const h = Buffer.from(JSON.stringify(blobs.length ? { ...header, b: blobs.map((b) => b.length) } : header));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(4 + h.length + blobs.reduce((n, b) => n + b.length, 0), 0);
  head.writeUInt32BE(h.length, 4);
  return Buffer.concat([head, h, ...blobs]);
}

test("frames split into arbitrary chunks, small and large (> 1 MiB), decode whole and in order", () => {
  const sizes = [0, 1, 100, 65_536, 1_048_576, 3_000_001, 7, 2_500_000, 12];
  const blobs = sizes.map((n) => randomBytes(n));
  const stream = Buffer.concat(sizes.map((_, i) => frame({ k: "ev", n: i }, [blobs[i]])));
  for (const chunkSize of [1, 3, 4096, 65_536, 1_000_003, stream.length]) {
    const got = [];
    const link = new Link(new PassThrough(), new PassThrough(), { onEvent: (f) => got.push(f) });
    for (let at = 0; at < stream.length; at += chunkSize) link.receive(stream.subarray(at, at + chunkSize));
    assert.equal(got.length, sizes.length, `chunks of ${chunkSize}`);
    got.forEach((f, i) => {
      assert.equal(f.header.n, i);
      assert.ok(f.blobs[0].equals(blobs[i]), `frame ${i}, chunks of ${chunkSize}`);
    });
    assert.equal(link.closed, false);
  }
});

test("a frame over the limit or with a broken header closes the link with a clear error", () => {
  const errors = [];
  const big = new Link(new PassThrough(), new PassThrough(), { maxFrame: 1000, onClose: (e) => errors.push(e?.message) });
  big.receive(Buffer.from([0, 0, 0x10, 0, 0, 0]));
  const bad = new Link(new PassThrough(), new PassThrough(), { onClose: (e) => errors.push(e?.message) });
  bad.receive(Buffer.concat([Buffer.from([0, 0, 0, 7, 0, 0, 0, 3]), Buffer.from("{{{")]));
  assert.match(errors[0], /frame of 4096 bytes exceeds limit of 1000/);
  assert.match(errors[1], /header is not JSON/);
});
