// Tool calls against real python3 agents: codec, dispatch, sync, errors, stdio poisoning.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { Remote, loadTool, RemoteError, RemoteClosedError } from "../dist/index.js";
import { PYTHON, fixtures, tempDir } from "./helpers/tools-env.mjs";

const spawnRemote = async (t, opts = {}) => {
  const r = await Remote.spawn([PYTHON], opts);
  t.after(() => r.close());
  return r;
};

test("sync and async methods, ClassVar, subclass dispatch, dataclass and enum results", async (t) => {
  const r = await spawnRemote(t);
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  const D = await loadTool(join(fixtures, "basic.py"), "Derived");
  assert.equal(await r.call(B.noop), null);
  assert.equal(await r.call(B.greet, "ann"), "hello ann from Basic");
  // Inherited classmethod called through the subclass runs with the subclass and its ClassVar.
  assert.equal(await r.call(D.greet, "bob"), "hi bob from Derived");
  assert.equal(await r.call(B.async_add, 2, 40), 42);
  assert.deepEqual(await r.call(B.point, 3, 4), { x: 3, y: 4 });
  assert.equal(await r.call(B.color), "blue");
  assert.equal(await r.callWith({ kwargs: { name: "kw" } }, B.greet), "hello kw from Basic");
  // Instance methods: one instance per connection, state kept between calls.
  assert.equal(await r.call(B.remember, 7), true);
  assert.equal(await r.call(B.recall), 7);
});

test("both bootstraps: a bare interpreter gets stage 1 as -c (no REPL start-up hook), a wrapped one types it into -qui", async (t) => {
  const S = await loadTool(join(fixtures, "basic.py"), "Basic");
  const bare = await spawnRemote(t);
  const wrapped = await Remote.spawn(["/usr/bin/env", PYTHON]);
  t.after(() => wrapped.close());
  for (const r of [bare, wrapped]) assert.equal(await r.call(S.greet, "x"), "hello x from Basic");
  // The interactive hook of `site` imports readline and rlcompleter (~11 ms at every start).
  const I = await loadTool(join(fixtures, "introspect.py"), "Introspect");
  assert.equal(await bare.call(I.has_module, "rlcompleter"), false, "the bare start skips the REPL hook");
  assert.equal(await wrapped.call(I.has_module, "rlcompleter"), true, "-qui runs it (what ssh and docker get)");
});

test("a local interpreter's second agent loads the agent's bytecode instead of compiling it", async (t) => {
  const I = await loadTool(join(fixtures, "introspect.py"), "Introspect");
  // A path of its own, so that no earlier test has filled the cache for it.
  const dir = tempDir(t);
  const python = join(dir, "python3");
  symlinkSync(PYTHON, python);
  const first = await Remote.spawn([python]);
  t.after(() => first.close());
  assert.deepEqual(await first.call(I.modules_from_cache), [], "the first one compiles from source");
  const second = await Remote.spawn([python]);
  t.after(() => second.close());
  const cached = await second.call(I.modules_from_cache);
  // pythond: imported by the first tool file (the agent reports again after its first sync).
  for (const m of ["pythond_agent.tooldispatch", "pythond_agent.toolload", "pythond_agent.link", "pythond_agent.codec", "pythond"]) assert.ok(cached.includes(m), `${m} in ${cached}`);
  const wrapped = await Remote.spawn(["/usr/bin/env", python]);
  t.after(() => wrapped.close());
  assert.deepEqual(await wrapped.call(I.modules_from_cache), [], "transports other than a bare interpreter take no part");
});

test("a failure of the agent's reading thread ends the agent with the reason, never a hang", async (t) => {
  const I = await loadTool(join(fixtures, "introspect.py"), "Introspect");
  const r = await spawnRemote(t);
  assert.equal(await r.call(I.break_reader), true);
  // A reader already inside the old read finishes that one read; the next one fails.
  const pings = async () => {
    for (let i = 0; i < 3; i++) await r.ping(5000);
  };
  await assert.rejects(pings(), /the agent failed: agent reader failed: sabotaged by a test/);
});

test("codec: bigint, bytes without base64, tuples, sets, maps, datetime, nan, '$' keys", async (t) => {
  const r = await spawnRemote(t);
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  const v = await r.call(B.types);
  assert.equal(v.big, 2n ** 70n);
  assert.equal(v.neg, -(2n ** 64n));
  assert.deepEqual(v.tuple, [1, 2]);
  assert.deepEqual(v.set, [3]);
  assert.ok(v.map instanceof Map);
  assert.equal(v.map.get(1), "one");
  assert.deepEqual([...v.bytes], [0, 255]);
  assert.ok(v.when instanceof Date);
  assert.equal(v.when.toISOString(), "2024-01-02T03:04:05.000Z");
  assert.ok(Number.isNaN(v.nan));
  assert.equal(v.dollar.get("$"), "not a tag");
  // Round trips through Python.
  const big = 2n ** 80n + 1n;
  assert.equal(await r.call(B.echo, big), big);
  assert.equal(await r.call(B.echo, 5n), 5);
  const bytes = new Uint8Array(1 << 20).map((_, i) => i * 7);
  assert.deepEqual(Buffer.compare(await r.call(B.echo, bytes), Buffer.from(bytes)), 0);
  assert.equal(await r.call(B.kinds, bytes), "bytes");
  assert.equal(await r.call(B.kinds, new Map([[1, 2]])), "dict");
  assert.equal(await r.call(B.kinds, new Set([1])), "set");
  assert.equal(await r.call(B.kinds, new Date()), "datetime");
  assert.equal((await r.call(B.echo, new Date(0))).getTime(), 0);
  assert.deepEqual(await r.call(B.echo, { $: 1, a: [1, "x", null] }), new Map([["$", 1], ["a", [1, "x", null]]]));
  assert.equal(await r.call(B.echo, Infinity), Infinity);
});

test("same class name in two modules does not collide; edited source re-syncs", async (t) => {
  const r = await spawnRemote(t);
  const A = await loadTool(join(fixtures, "a", "same.py"), "Same");
  const Bm = await loadTool(join(fixtures, "b", "same.py"), "Same");
  assert.equal(await r.call(A.which), "a");
  assert.equal(await r.call(Bm.which), "b");
  assert.equal(await r.call(A.which), "a");
  const dir = tempDir(t);
  const file = join(dir, "edit.py");
  writeFileSync(file, "from rmote.protocol import Tool\nclass E(Tool):\n    @staticmethod\n    def v():\n        return 1\n");
  const E1 = await loadTool(file, "E");
  assert.equal(await r.call(E1.v), 1);
  writeFileSync(file, "from rmote.protocol import Tool\nclass E(Tool):\n    @staticmethod\n    def v():\n        return 2\n");
  const E2 = await loadTool(file, "E");
  assert.equal(await r.call(E2.v), 2);
});

test("racing first calls upload once", async (t) => {
  const r = await spawnRemote(t);
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  let syncs = 0;
  const orig = r.link.request.bind(r.link);
  r.link.request = (op, ...rest) => {
    if (op === "sync") syncs++;
    return orig(op, ...rest);
  };
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => r.call(B.echo, i)));
  assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(syncs, 1);
});

test("__init__ in a Tool is rejected naming the class", async (t) => {
  const r = await spawnRemote(t);
  const H = await loadTool(join(fixtures, "bad_init.py"), "HasInit");
  await assert.rejects(r.call(H.anything), (e) => e instanceof RemoteError && e.type === "TypeError" && /HasInit/.test(e.message));
  // The failed load is not cached: it fails again the same way (and the connection lives).
  await assert.rejects(r.call(H.anything), /HasInit/);
  await r.ping();
});

test("remote exceptions carry type, message and traceback; bad results fail one call", async (t) => {
  const r = await spawnRemote(t);
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  await assert.rejects(r.call(B.missing, "/definitely/not/here"), (e) => {
    assert.ok(e instanceof RemoteError);
    assert.equal(e.type, "FileNotFoundError");
    assert.match(e.remoteMessage, /No such file/);
    assert.match(e.remoteTraceback, /basic\.py", line \d+, in missing/);
    assert.equal(e.errno, 2);
    assert.equal(e.method, "missing");
    return true;
  });
  await assert.rejects(r.call(B.unencodable), (e) => e instanceof RemoteError && /could not be encoded/.test(e.message));
  await assert.rejects(r.call(B.no_such_method), /Method no_such_method not found in tool Basic/);
  await assert.rejects(r.call(B.count, 3), /async generator; use stream/);
  assert.equal(await r.call(B.echo, "still alive"), "still alive");
});

test("stdio poisoning: print, os.write(1/2), inherited child stdout/stderr cannot corrupt frames", async (t) => {
  const r = await spawnRemote(t);
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  assert.equal(await r.call(B.poison), "clean");
  await Promise.all(Array.from({ length: 5 }, () => r.call(B.poison)));
  await r.ping();
  assert.equal(await r.call(B.echo, 1), 1);
});

test("remote logging records reach the handler, before the result", async (t) => {
  const records = [];
  const r = await spawnRemote(t, { onLog: (rec) => records.push(rec) });
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  assert.equal(await r.call(B.log_things, 3), 3);
  assert.deepEqual(records.map((x) => x.message), ["record 0", "record 1", "record 2"]);
  assert.equal(records[0].logger, "basic");
  assert.equal(records[0].level, 30);
});

test("SystemExit: pending and later calls learn the exit status", async (t) => {
  const r = await spawnRemote(t);
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  const pending = r.call(B.sleep, 5);
  await assert.rejects(r.call(B.exit, 3), (e) => e instanceof RemoteClosedError && /remote exited with status 3/.test(e.message));
  await assert.rejects(pending, /remote exited with status 3/);
  await assert.rejects(r.call(B.noop), /remote exited with status 3/);
});

test("a remote that dies mid-call fails every pending call", async (t) => {
  const r = await spawnRemote(t);
  const B = await loadTool(join(fixtures, "basic.py"), "Basic");
  const slow = r.call(B.sleep, 10);
  await assert.rejects(r.call(B.die), (e) => e instanceof RemoteClosedError && /killed by SIGKILL/.test(e.message));
  await assert.rejects(slow, /killed by SIGKILL/);
});

test("garbage on the link is rejected with a clear error", async (t) => {
  // Agent side: bytes that are not a frame end the agent with a stated reason.
  const r = await spawnRemote(t);
  r.child.stdin.write(Buffer.from([0, 0, 0, 9, 0, 0, 0, 5, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b]));
  await assert.rejects(r.ping(), /rejected our stream: header is not JSON/);
  // Controller side: a fake agent that says READY and then sends garbage.
  const fake = await Remote.spawn(["sh", "-c", "printf 'PYTHOND READY 1\\n\\377\\377\\377\\377junk'; sleep 5", "fake"]);
  t.after(() => fake.close());
  await assert.rejects(fake.ping(), /frame of \d+ bytes exceeds limit/);
});

test("start-up failures say why: missing interpreter, noisy transport", async (t) => {
  await assert.rejects(Remote.spawn(["/nonexistent/python3"]), /agent failed to start: spawn \/nonexistent\/python3 ENOENT/);
  await assert.rejects(
    Remote.spawn(["sh", "-c", "echo 'sh: 1: python3: not found' >&2; exit 127", "sh"]),
    /process exited with status 127. Its transport said: sh: 1: python3: not found/,
  );
  const noisy = await Remote.spawn(["sh", "-c", `echo motd line; echo warning >&2; exec ${PYTHON} "$@"`, "sh"]);
  t.after(() => noisy.close());
  await noisy.ping();
});
