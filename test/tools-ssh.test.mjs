// The ssh transport against a real sshd on 127.0.0.1 (skipped only when sshd is not installed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Remote, loadTool, RemoteError, Fleet } from "../dist/index.js";
import { fixtures, tempDir } from "./helpers/tools-env.mjs";
import { sshdMissing, startSshd } from "./helpers/sshd.mjs";

const missing = sshdMissing();
if (missing) console.log(`# skipping ssh transport tests: ${missing}`);

test("tools over ssh: calls, streams, errors, poisoning, deadline", { skip: missing ?? false }, async (t) => {
  const dir = tempDir(t);
  const sshd = await startSshd(dir);
  t.after(() => sshd.stop());
  const r = await Remote.spawn(sshd.argv("python3"));
  t.after(() => r.close());
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  const D = await loadTool(join(fixtures, "basic.py"), "Derived");
  assert.equal(await r.call(D.greet, "ssh"), "hi ssh from Derived");
  assert.deepEqual(await r.call(B.point, 1, 2), { x: 1, y: 2 });
  const big = new Uint8Array(4 << 20).fill(7);
  assert.equal(Buffer.compare(await r.call(B.echo, big), Buffer.from(big)), 0);
  const items = [];
  for await (const x of r.stream(B.count, 300)) items.push(x);
  assert.equal(items.length, 300);
  assert.equal(await r.call(B.poison), "clean");
  await assert.rejects(r.call(B.missing, "/nope"), (e) => e instanceof RemoteError && e.type === "FileNotFoundError");
  await assert.rejects(r.callWith({ deadlineMs: 100 }, B.sleep, 5), (e) => e.type === "DeadlineExceeded");
  assert.equal(await r.call(B.echo, "after"), "after");
});

test("ssh start-up failure reports the refused key; fleet isolates it", { skip: missing ?? false }, async (t) => {
  const dir = tempDir(t);
  const sshd = await startSshd(dir);
  t.after(() => sshd.stop());
  const wrongKey = join(dir, "host_ed25519"); // a key the server does not accept for the user
  const refused = sshd.argv("python3").map((a) => (a === sshd.userKey ? wrongKey : a));
  await assert.rejects(Remote.spawn(refused), /status 255. Its transport said: .*Permission denied \(publickey\)/);
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  const fleet = new Fleet({ good: sshd.argv("python3"), refused }, { deadlineMs: 10_000 });
  t.after(() => fleet.close());
  const res = await fleet.call(B.echo, ["hi"]);
  assert.equal(res[0].ok && res[0].value, "hi");
  assert.equal(res[1].ok, false);
  assert.match(res[1].error.message, /Permission denied/);
});
