// Big outputs on the paths tuned for speed (issue 2 performance): a large print is written
// by the agent in slices (capture.py) and read by pysh's own WebSocket client (unix-ws.ts);
// every byte must still arrive, in order, identical to Python's own encoding.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { TestDaemon, BIN } from "./helpers/daemon.mjs";
import { Client } from "../dist/index.js";

const d = new TestDaemon();
let client;
before(async () => {
  await d.start();
  client = await Client.connect({ socket: d.sock, autostart: false });
  await client.request("new", { session: "big" });
  // ~3.5 MB of text: multi-byte characters and lone surrogates straddling the 1 Mi code
  // point slice boundaries, so a slice that split or re-encoded wrongly would show.
  const r = await client.run(
    "big",
    [
      "import hashlib",
      "unit = 'a' * (1 << 20) + 'é€😀\\udc80b'",
      "blob = (unit * 3)[: 3 * (1 << 20) + 5] + '\\ud800' + 'z' * 1000",
      "want = hashlib.sha256(blob.encode('utf-8', 'backslashreplace') + b'\\n').hexdigest()",
      "want_len = len(blob.encode('utf-8', 'backslashreplace')) + 1",
    ].join("\n"),
  );
  assert.equal(r.ok, true, JSON.stringify(r.error));
});
after(async () => {
  client?.close();
  await d.cleanup();
});

const expected = async () => ({
  sha: (await client.run("big", "want")).value,
  len: Number((await client.run("big", "want_len")).value),
});

test("a multi-MiB print with multi-byte characters arrives byte-exact over the SDK", async () => {
  const { sha, len } = await expected();
  const parts = [];
  const r = await client.run("big", "print(blob)", { output: (s, b) => s === 1 && parts.push(Buffer.from(b)) });
  assert.equal(r.ok, true);
  const got = Buffer.concat(parts);
  assert.equal(got.length, len);
  assert.equal(createHash("sha256").update(got).digest("hex"), sha);
});

test("the same print through pysh to a pipe is byte-exact (one trailing newline)", async () => {
  const { sha, len } = await expected();
  const got = await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN("pysh"), "run", "big", "print(blob)"], { env: d.env, stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    let err = "";
    c.stdout.on("data", (b) => out.push(b));
    c.stderr.on("data", (b) => (err += b));
    const timer = setTimeout(() => (c.kill("SIGKILL"), reject(new Error("pysh did not finish"))), 60_000);
    c.on("close", (code) => (clearTimeout(timer), code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`pysh exited ${code}: ${err}`))));
  });
  assert.equal(got.length, len);
  assert.equal(createHash("sha256").update(got).digest("hex"), sha);
});

test("sys.stdout.write of a big str returns its length; the cell result is unchanged", async () => {
  const r = await client.run("big", "import sys; n = sys.stdout.write(blob); n == len(blob)", { output: () => {} });
  assert.equal(r.ok, true);
  assert.match(r.value ?? "", /True/);
});
