// A settled request keeps nothing alive (issue 9, item 14: the daemon's memory after large
// cells). The link once kept the last request's resolving functions in a module-level slot,
// and with them that request's promise and its reply: after a `poll` of a 60 MB cell the daemon
// held the 60 MB until its next agent request (found in a heap snapshot of an idle daemon).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Link } from "../dist/index.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");

function reply(id, blob) {
  const h = Buffer.from(JSON.stringify({ k: "res", i: id, r: { ok: true }, b: [blob.length] }));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(4 + h.length + blob.length, 0);
  head.writeUInt32BE(h.length, 4);
  return Buffer.concat([head, h, blob]);
}

/** Make one request, answer it with a blob of size bytes; a weak reference to what it got. */
async function settledRequest(link, size) {
  const pending = link.request("poll", { cell: "c" });
  link.receive(reply(1, Buffer.alloc(size, 0x7a)));
  const { blobs } = await pending;
  assert.equal(blobs[0].length, size);
  return new WeakRef(blobs[0].buffer);
}

test("the reply of the last settled request is not retained once its caller let go of it", async () => {
  const link = new Link(new PassThrough(), new PassThrough());
  const ref = await settledRequest(link, 8 << 20);
  // A WeakRef's target lives at least until the end of the job that made it: collect later.
  await new Promise((r) => setTimeout(r, 10));
  gc();
  await new Promise((r) => setTimeout(r, 10));
  gc();
  assert.equal(ref.deref(), undefined, "the 8 MiB reply is still reachable after its request settled");
  assert.equal(link.closed, false);
});
