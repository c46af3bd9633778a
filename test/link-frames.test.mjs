// The frame parser of the agent link (unit): frames of every size, split at every kind of
// boundary, come out whole and in order; large ones are gathered as they arrive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import { Link, RequestHead } from "../dist/index.js";

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

// Issue 9 item 14: agent sockets are read into one reused buffer (net's onread); the parser must
// copy whatever it keeps or hands out, so frames stay intact when the buffer is overwritten.
test("with transient input (the caller reuses each chunk's memory), frames still decode whole and intact", () => {
  const sizes = [0, 1, 100, 65_536, 1_048_576, 3_000_001, 7, 2_500_000, 12, 70_000, 3];
  const blobs = sizes.map((n) => randomBytes(n));
  const stream = Buffer.concat(sizes.map((_, i) => frame({ k: "ev", n: i }, [blobs[i]])));
  for (const chunkSize of [1, 3, 7, 4096, 65_536, 262_144, 1_000_003]) {
    const got = [];
    const link = new Link(new PassThrough(), new PassThrough(), { transientInput: true, onEvent: (f) => got.push(f) });
    const scratch = Buffer.alloc(chunkSize);
    for (let at = 0; at < stream.length; at += chunkSize) {
      const n = stream.copy(scratch, 0, at, at + chunkSize);
      link.receive(scratch.subarray(0, n));
      scratch.fill(0xee); // what a reused read buffer does to bytes the parser failed to copy
    }
    assert.equal(got.length, sizes.length, `chunks of ${chunkSize}`);
    got.forEach((f, i) => {
      assert.equal(f.header.n, i);
      assert.ok(f.blobs[0].equals(blobs[i]), `frame ${i}, chunks of ${chunkSize}`);
    });
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

// Issue 9 item 19: frames are laid end to end in slabs and call heads are encoded once; what
// leaves must be exactly the frames made, whatever their mix, across slab boundaries.
test("frames written into slabs (plain, from a request head, with attachments) decode as made, in order", async () => {
  const sent = [];
  const out = new PassThrough();
  out.on("data", (c) => sent.push(c));
  const a = new Link(new PassThrough(), out);
  const head = new RequestHead("call", { h: 7, t: "mod@0123456789abcdef", c: "Outer.Tool", m: "méthode" });
  const expected = [];
  const blob = (n, seed) => Buffer.alloc(n, seed);
  for (let i = 0; i < 6000; i++) {
    if (i === 3000) a.nextId = 123456789012345; // ids of 1 to 15 digits
    const kind = i % 4;
    if (kind === 0) {
      a.send({ k: "ev", n: i, s: "ünïcode ✓" });
      expected.push({ header: { k: "ev", n: i, s: "ünïcode ✓" }, blobs: [] });
    } else if (kind === 1) {
      const id = a.nextId;
      a.requestWith(head, "", [], { decode: (r) => r }).catch(() => {});
      expected.push({ header: { k: "req", op: "call", h: 7, t: "mod@0123456789abcdef", c: "Outer.Tool", m: "méthode", i: id }, blobs: [] });
    } else if (kind === 2) {
      const id = a.nextId;
      const blobs = [blob(i % 300, i & 0xff), blob(70_000 * (i % 2), 1)];
      a.requestWith(head, `,"a":[${i},"€"]`, blobs, { decode: (r) => r }).catch(() => {});
      expected.push({ header: { k: "req", op: "call", h: 7, t: "mod@0123456789abcdef", c: "Outer.Tool", m: "méthode", i: id, a: [i, "€"], b: blobs.map((b) => b.length) }, blobs });
    } else {
      const blobs = [blob(5, 9)];
      a.send({ k: "ev", n: i }, blobs);
      expected.push({ header: { k: "ev", n: i, b: [5] }, blobs });
    }
  }
  await new Promise((r) => setImmediate(r));
  const stream = Buffer.concat(sent);
  for (const chunkSize of [1, 7, 4096, stream.length]) {
    const got = [];
    const b = new Link(new PassThrough(), new PassThrough(), { onEvent: (f) => got.push(f) });
    for (let at = 0; at < stream.length; at += chunkSize) b.receive(stream.subarray(at, at + chunkSize));
    assert.equal(got.length, expected.length, `chunks of ${chunkSize}`);
    got.forEach((f, i) => {
      assert.deepEqual(f.header, expected[i].header, `frame ${i}, chunks of ${chunkSize}`);
      assert.equal(f.blobs.length, expected[i].blobs.length);
      f.blobs.forEach((x, j) => assert.ok(x.equals(expected[i].blobs[j]), `frame ${i} attachment ${j}`));
    });
    assert.equal(b.closed, false);
  }
  a.shutdown(null);
});

test("a write that fails (EPIPE) leaves the far side's last frames time to arrive: their reason, not EPIPE, ends the requests", async () => {
  const input = new PassThrough();
  const { Writable } = await import("node:stream");
  const output = new Writable({
    write(_chunk, _enc, done) {
      done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    },
  });
  const link = new Link(input, output, {
    onEvent: (f) => {
      if (f.header.k === "fatal") link.shutdown(new Error(`the agent failed: ${f.header.e.message}`));
    },
  });
  const pending = link.request("ping", {});
  await new Promise((r) => setTimeout(r, 50)); // the write has failed by now
  assert.equal(link.closed, false, "the link reads on after a failed write");
  input.write(frame({ k: "fatal", e: { type: "RuntimeError", message: "agent reader failed" } }));
  await assert.rejects(pending, /the agent failed: agent reader failed/);
});

test("after a failed write with nothing more to read, the write error ends the link", async () => {
  const input = new PassThrough();
  const { Writable } = await import("node:stream");
  const output = new Writable({
    write(_chunk, _enc, done) {
      done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    },
  });
  const link = new Link(input, output);
  const pending = link.request("ping", {});
  await new Promise((r) => setTimeout(r, 50));
  input.end();
  await assert.rejects(pending, /EPIPE/);
});
