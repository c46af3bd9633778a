// Cancellation, deadlines, streams with flow control, fan-out with a dead host.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { Remote, loadTool, RemoteError, Fleet } from "../dist/index.js";
import { PYTHON, fixtures, tempDir } from "./helpers/tools-env.mjs";

const spawnRemote = async (t, opts = {}) => {
  const r = await Remote.spawn([PYTHON], opts);
  t.after(() => r.close());
  return r;
};
const basic = () => loadTool(join(fixtures, "basic.py"), "Basic");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("deadlines are enforced by the agent for sync and async methods", async (t) => {
  const r = await spawnRemote(t);
  const B = await basic();
  for (const m of [B.sleep, B.async_sleep]) {
    const t0 = Date.now();
    await assert.rejects(r.callWith({ deadlineMs: 150 }, m, 10), (e) => e instanceof RemoteError && e.type === "DeadlineExceeded");
    const took = Date.now() - t0;
    assert.ok(took >= 140 && took < 1500, `deadline took ${took} ms`);
  }
  // The pool worker was interrupted, the connection is fine, and a call within its deadline completes.
  assert.equal(await r.callWith({ deadlineMs: 5000 }, B.sleep, 0.01), "slept");
  await assert.rejects(r.callWith({ deadlineMs: 0 }, B.noop), RangeError);
  await assert.rejects(r.callWith({ deadlineMs: NaN }, B.noop), RangeError);
});

test("a quick method that turns slow holds up nothing else: calls and cancels are still read", async (t) => {
  const r = await spawnRemote(t);
  const B = await basic();
  for (let i = 0; i < 3; i++) assert.equal(await r.call(B.sleep, 0), "slept"); // now a quick method
  // One batch (sent in one write): the first call blocks the thread that runs the batch.
  const ac = new AbortController();
  const batch = [r.callWith({ signal: ac.signal }, B.sleep, 1.5), ...Array.from({ length: 8 }, () => r.call(B.sleep, 0))];
  await sleep(100);
  const t0 = Date.now();
  assert.equal(await r.call(B.noop), null, "another thread reads meanwhile");
  assert.ok(Date.now() - t0 < 1000, `a call sent later waited ${Date.now() - t0} ms`);
  ac.abort();
  await assert.rejects(batch[0], (e) => e.name === "AbortError" || e instanceof RemoteError);
  // They waited for the blocked call (an interrupt reaches time.sleep only when it returns).
  assert.deepEqual(await Promise.all(batch.slice(1)), Array(8).fill("slept"), "the rest of the batch completes");
  assert.equal(await r.call(B.sleep, 0), "slept");
});

test("deadlines that expire as calls finish never hurt the connection (quick batches and pool threads)", async (t) => {
  const r = await spawnRemote(t);
  const B = await basic();
  for (let i = 0; i < 3; i++) await r.call(B.spin, 0.0001); // a quick method: batched on the reader
  for (let round = 0; round < 20; round++) {
    const ms = 1 + (round % 4);
    const calls = Array.from({ length: 16 }, (_, i) => r.callWith({ deadlineMs: ms }, B.spin, (ms + (i % 3) - 1) / 1000));
    for (const res of await Promise.allSettled(calls)) {
      if (res.status === "fulfilled") assert.equal(res.value, "spun");
      else assert.equal(res.reason.type, "DeadlineExceeded", String(res.reason));
    }
    await r.ping(2000); // still read and answered
  }
  assert.equal(await r.call(B.echo, "alive"), "alive");
});

test("AbortSignal cancels remotely: async task cancelled, child process group killed", async (t) => {
  const r = await spawnRemote(t);
  const B = await basic();
  const ac = new AbortController();
  const p = r.callWith({ signal: ac.signal }, B.sleep_child, 30);
  // Wait (with a deadline) for the child to exist: a fixed pause was too short under load.
  const childSeen = () => execFileSync("ps", ["-eo", "ppid,args"], { encoding: "utf8" }).split("\n").some((l) => /sleep 30/.test(l));
  for (let i = 0; i < 200 && !childSeen(); i++) await sleep(25);
  assert.ok(childSeen(), "the call's child process never started");
  ac.abort();
  await assert.rejects(p, (e) => e.name === "AbortError");
  // The agent killed the child's process group.
  let gone = false;
  for (let i = 0; i < 40 && !gone; i++) {
    await sleep(50);
    const lines = execFileSync("ps", ["-eo", "ppid,args"], { encoding: "utf8" }).split("\n");
    gone = !lines.some((l) => l.trim().startsWith(String(r.pid)) && /sleep 30/.test(l));
  }
  assert.ok(gone, "child sleep was not killed");
  const ac2 = new AbortController();
  const q = r.callWith({ signal: ac2.signal }, B.async_sleep, 30);
  setTimeout(() => ac2.abort(), 50);
  await assert.rejects(q, (e) => e.name === "AbortError");
  assert.equal(await r.call(B.echo, "ok"), "ok");
});

test("streams: items in order, bytes items, error after items", async (t) => {
  const r = await spawnRemote(t);
  const B = await basic();
  const got = [];
  for await (const x of r.stream(B.count, 1000)) got.push(x);
  assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => i));
  let n = 0;
  for await (const b of r.stream(B.chunks, 20, 100_000)) {
    assert.equal(b.length, 100_000);
    assert.equal(b[0], n++ % 256);
  }
  assert.equal(n, 20);
  // Items whose window runs out while a batch is half full: each must arrive as sent.
  n = 0;
  for await (const b of r.stream(B.chunks, 600, 20_000)) {
    assert.equal(b.length, 20_000, `item ${n}`);
    assert.equal(b[0], n++ % 256, `item ${n - 1}`);
  }
  assert.equal(n, 600);
  const seen = [];
  await assert.rejects(
    (async () => {
      for await (const x of r.stream(B.fail_after, 3)) seen.push(x);
    })(),
    (e) => e instanceof RemoteError && e.type === "ValueError" && /stream broke after 3/.test(e.message),
  );
  assert.deepEqual(seen, [0, 1, 2]);
});

test("streams: a slow consumer holds the producer back (credit), other calls proceed", async (t) => {
  const r = await spawnRemote(t);
  const B = await basic();
  // 64 items of 1 MiB: the window (4 MiB) means the agent can never run far ahead.
  const it = r.stream(B.chunks, 64, 1 << 20);
  let count = 0;
  for await (const _ of it) {
    count++;
    if (count === 2) {
      await sleep(300);
      // While we stall, the agent has at most one window of data in flight to us.
      const buffered = it.queue.length - it.head;
      assert.ok(buffered <= 5, `consumer buffered ${buffered} MiB beyond the window`);
      assert.equal(await r.call(B.echo, "beside"), "beside");
    }
  }
  assert.equal(count, 64);
});

test("streams: breaking early runs the generator's finally and keeps the connection", async (t) => {
  const r = await spawnRemote(t);
  const B = await basic();
  const dir = tempDir(t);
  const marker = join(dir, "finally");
  for await (const x of r.stream(B.guarded, marker)) if (x >= 3) break;
  for (let i = 0; i < 50 && !existsSync(marker); i++) await sleep(20);
  assert.equal(readFileSync(marker, "utf8"), "finally ran");
  assert.equal(await r.call(B.echo, 1), 1);
});

test("fan-out: one dead host and one slow host do not sink the others", async (t) => {
  const B = await basic();
  const fleet = new Fleet(
    {
      a: [PYTHON],
      b: [PYTHON],
      dead: ["sh", "-c", "echo 'ssh: connect to host dead port 22: Connection refused' >&2; exit 255", "sh"],
    },
    { concurrency: 2, deadlineMs: 2000 },
  );
  t.after(() => fleet.close());
  const res = await fleet.call(B.greet, ["x"]);
  assert.deepEqual(res.map((x) => [x.host, x.ok]), [["a", true], ["b", true], ["dead", false]]);
  assert.equal(res[0].value, "hello x from Basic");
  assert.match(res[2].error.message, /status 255.*Connection refused/);
  for (const x of res) assert.ok(x.durationMs >= 0);
  const slow = await fleet.call(B.sleep, [10], { only: ["a", "b"], deadlineMs: 200 });
  assert.ok(slow.every((x) => !x.ok && x.error.type === "DeadlineExceeded"));
  const again = await fleet.call(B.echo, [5], { only: ["a", "b"] });
  assert.deepEqual(again.map((x) => x.value), [5, 5]);
});

// Issue 9 item 19: a burst (Promise.all over 20,000 calls at once) is served like calls in flight.
// Its speed is a bench figure (bench/tools-bench.mjs); here: every call gets its own answer, and
// the burst does not fan out into the thread pool (it did: a quick batch longer than 1 ms handed
// its remaining calls to the pool one by one, each a thread wake-up and a write of its own).
test("a burst of 20,000 concurrent calls: each gets its own result, the pool does not fan out", async (t) => {
  const r = await spawnRemote(t, { pool: 32 });
  const B = await basic();
  const I = await loadTool(join(fixtures, "introspect.py"), "Introspect");
  await r.call(B.echo, -1);
  await r.call(B.echo, -2); // its last run was quick: the next calls run in batches
  const before = await r.call(I.tool_threads);
  const n = 20_000;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => r.call(B.echo, i)));
  assert.equal(results.length, n);
  results.forEach((v, i) => assert.equal(v, i));
  const after = await r.call(I.tool_threads);
  assert.ok(after - before <= 8, `the burst started ${after - before} pool threads (of 32)`);
});

// Issue 9 item 19: a call names its method once per connection and then by a handle (half the
// bytes per call frame). Methods of the same names in two files keep their own handles, calls
// with and without arguments, failing ones and literal method references all keep working, and
// a handle the connection never bound is refused as that call's error, not the connection's.
test("method handles: same names in two files stay apart, failures and literal refs keep working, unbound handles are refused", async (t) => {
  const r = await spawnRemote(t);
  const B = await basic();
  const A1 = await loadTool(join(fixtures, "a", "same.py"), "Same");
  const A2 = await loadTool(join(fixtures, "b", "same.py"), "Same");
  const n = 3000;
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => {
      if (i % 5 === 0) return r.call(A1.which);
      if (i % 5 === 1) return r.call(A2.which);
      if (i % 5 === 2) return r.call(B.echo, { i, s: "é" });
      if (i % 5 === 3) return r.call({ tool: B.echo.tool, method: "echo" }, i); // a reference made on the fly
      return r.call(B.missing_method);
    }),
  );
  results.forEach((res, i) => {
    const want = [["fulfilled", "a"], ["fulfilled", "b"], ["fulfilled", { i, s: "é" }], ["fulfilled", i]][i % 5];
    if (want) assert.deepEqual([res.status, res.value], want, `call ${i}`);
    else assert.match(String(res.reason?.message), /missing_method/, `call ${i}`);
  });
  await assert.rejects(r.link.request("call", { h: 4000 }), /call handle 4000 is not bound/);
  await assert.rejects(r.link.request("call", { h: "x" }), /call handle must be an integer/);
  await assert.rejects(r.link.request("call", { h: 0, t: B.echo.tool.key, c: "Basic", m: "echo" }), /call handle must be an integer/);
  assert.equal(await r.call(A2.which), "b"); // the connection goes on
});
