// Output that is never lost or mangled (issue 9, items 1-3): a crashing cell's last words,
// stdout and stderr each with their own bytes, and output that belongs to no cell.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory, BIN } from "./helpers/daemon.mjs";

const fresh = daemonFactory(after);

/** pysh with stdout and stderr on one pipe, as `2>&1` in a shell: the bytes as a terminal shows them. */
function pyshMerged(d, ...args) {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", 'exec "$0" "$@" 2>&1', process.execPath, BIN("pysh"), ...args], { env: d.env, stdio: ["ignore", "pipe", "ignore"] });
    const out = [];
    child.stdout.on("data", (c) => out.push(c));
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error("pysh did not finish"))), 60_000);
    child.on("close", (code) => (clearTimeout(timer), resolve({ code, text: Buffer.concat(out).toString("utf8") })));
  });
}

const crashes = [
  ["print + os._exit", 'print("last words", flush=True); import os; os._exit(1)', "last words\n", /exited with status 1/],
  ["os.write + os._exit", 'import os; os.write(1, b"raw words\\n"); os._exit(3)', "raw words\n", /exited with status 3/],
  ["print + os.abort", 'print("abort words", flush=True); import os; os.abort()', "abort words\n", /killed by SIGABRT/],
];

test("a cell that kills its interpreter: what it wrote reaches pysh before the dead error, and session.log", async () => {
  const d = fresh();
  await d.start();
  for (const [what, code, words, reason] of crashes) {
    assert.equal((await d.pysh("new", "--replace", "s")).code, 0);
    const r = await d.pysh("run", "s", code);
    assert.equal(r.code, 1, what);
    assert.equal(r.stdout, words, `${what}: stdout`);
    assert.match(r.stderr, /^ERR session 's' dead \(/, `${what}: the error`);
    assert.match(r.stderr, reason, `${what}: the exit status`);
    const merged = await pyshMerged(d, "new", "--replace", "s").then(() => pyshMerged(d, "run", "s", code));
    assert.ok(merged.text.startsWith(words.trim()), `${what}: the words come before the error: ${merged.text}`);
    assert.ok(merged.text.indexOf("ERR session") > merged.text.indexOf(words.trim()), what);
  }
  const log = readFileSync(join(d.home, ".pythond", "sessions", "s", "session.log"), "utf8");
  for (const [, , words] of crashes) assert.ok(log.includes(`# > ${words.trim()}\n`), `session.log has ${words.trim()}: ${log}`);
  assert.match(log, /# > \[pythond: session 's' dead \(killed by SIGABRT\)/);
});

test("a segfault with faulthandler on: the cell's output and the fault's traceback arrive, then the error", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "s");
  const r = await d.pysh("run", "s", 'import faulthandler, ctypes\nfaulthandler.enable()\nprint("before the fault", flush=True)\nctypes.string_at(0)');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "before the fault\n");
  assert.match(r.stderr, /^Fatal Python error: Segmentation fault/);
  assert.match(r.stderr, /File "<cell-1>", line 4 in <module>/);
  assert.match(r.stderr, /ERR session 's' dead \(killed by SIGSEGV\)[^\n]*\n$/);
});

test("a fire cell that crashes: poll shows its last words with status dead and exits 1", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "s");
  const fired = JSON.parse((await d.pysh("fire", "s", 'import os, time\nprint("fired words", flush=True)\ntime.sleep(0.2)\nos._exit(7)')).stdout);
  let r;
  for (let i = 0; i < 100; i++) {
    r = await d.pysh("poll", "s", fired.cell_id);
    if (!r.stdout.includes('"running"')) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { cell_id: fired.cell_id, status: "dead", output: "fired words", error: true });
  assert.match(r.stderr, /ERR session 's' dead \(exited with status 7\)/);
});

test("stdout and stderr keep their own bytes and their order: no text moves between them", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "s");
  const merged = await pyshMerged(d, "run", "s", 'print("hi"); 1/0');
  assert.equal(merged.code, 1);
  assert.ok(merged.text.startsWith("hi\nTraceback (most recent call last):\n"), JSON.stringify(merged.text));
  assert.ok(merged.text.endsWith("ZeroDivisionError: division by zero\n"), JSON.stringify(merged.text));
  const order = await pyshMerged(d, "run", "s", 'import sys\nprint("a")\nprint("b", file=sys.stderr)\nprint("c")\n_ = sys.stdout.write("d\\n\\n\\n")');
  assert.equal(order.text, "a\nb\nc\nd\n", "only the whole output's trailing newlines are dropped");
  const split = await d.pysh("run", "s", 'import sys\nsys.stdout.write("no newline")\nsys.stdout.flush()\nprint("err", file=sys.stderr)');
  assert.equal(split.stdout, "no newline", "stdout keeps its own bytes");
  assert.equal(split.stderr, "err\n");
  // The 0.4 text protocol keeps its one interleaved buffer, trailing newlines stripped.
  const ws = await d.ws();
  assert.match(await ws.ask('run s\nprint("hi"); 1/0'), /^ERR execution failed\nhi\nTraceback \(most recent call last\):\n[\s\S]*ZeroDivisionError: division by zero$/);
  ws.close();
});

test("output of a thread after its cell ended goes to no cell: pysh output shows it, another cell never does", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "s");
  const a = await d.pysh("run", "s", 'import threading, time\ngo = threading.Event()\ndef late():\n    go.wait()\n    print("from the thread", flush=True)\nthreading.Thread(target=late).start()\nprint("cell A")');
  assert.equal(a.stdout, "cell A\n");
  const b = await d.pysh("run", "s", 'go.set(); time.sleep(0.3); print("cell B")');
  assert.equal(b.stdout, "cell B\n", "not counted as cell B's");
  const o = await d.pysh("output", "s");
  assert.equal(o.code, 0, o.stderr);
  assert.equal(o.stdout, "from the thread\n");
  const j = JSON.parse((await d.pysh("output", "--json", "s")).stdout);
  assert.deepEqual(j, { seq: 16, since: 0, dropped: 0, chunks: [{ stream: "stdout", text: "from the thread\n" }] });
  assert.match(o.stderr, /next: --since 16\n$/);
  const again = JSON.parse((await d.pysh("output", "--json", "--since", "16", "s")).stdout);
  assert.deepEqual(again.chunks, [], "--since skips what was seen");
  // A thread started between cells (by a thread of no cell) writes to stderr: background too.
  await d.pysh("run", "s", 'import sys\nthreading.Thread(target=lambda: (time.sleep(0.2), print("late err", file=sys.stderr))).start()');
  await new Promise((res) => setTimeout(res, 500));
  const e = JSON.parse((await d.pysh("output", "--json", "--since", "16", "s")).stdout);
  assert.deepEqual(e.chunks, [{ stream: "stderr", text: "late err\n" }]);
  const cells = JSON.parse((await d.pysh("cells", "s")).stdout);
  assert.deepEqual(cells.background, { seq: 25, bytes: 25, dropped: 0 });
});

test("background output is bounded with a visible marker, never dropped silently; bad --since is refused", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "s");
  await d.pysh("run", "s", 'import threading\nt = threading.Thread(target=lambda: [print("x" * 1023) for _ in range(1500)])\nthreading.Timer(0.1, t.start).start()');
  await d.pysh("run", "s", "import time; time.sleep(0.2); t.join()");
  const j = JSON.parse((await d.pysh("output", "--json", "s")).stdout);
  assert.equal(j.seq, 1500 * 1024);
  assert.equal(j.dropped, 1500 * 1024 - (1 << 20));
  assert.equal(j.chunks.map((c) => c.text).join("").length, 1 << 20);
  const o = await d.pysh("output", "s");
  assert.match(o.stderr, new RegExp(`^\\[pythond: ${j.dropped} bytes of background output dropped`));
  for (const bad of ["abc", "-1", "1e3"]) {
    const r = await d.pysh("output", "--since", bad, "s");
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, /--since wants a byte position/);
  }
  assert.equal((await d.pysh("output")).code, 2);
  assert.equal((await d.pysh("output", "nosuch")).code, 1);
});

test("output of a child process after its cell ended goes to no cell, even while another cell runs", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "s");
  const a = await d.pysh("run", "s", 'import subprocess\np = subprocess.Popen(["sh", "-c", "sleep 1; echo late-child"])\nprint("cell A")');
  assert.equal(a.stdout, "cell A\n");
  const b = await d.pysh("run", "s", 'import time; time.sleep(2); print("second")');
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout, "second\n", "the child's late line is not the second cell's");
  assert.equal(b.stderr, "");
  const o = await d.pysh("output", "s");
  assert.equal(o.stdout, "late-child\n");
  // A grandchild orphaned by its shell (a background job of os.system), and a child of a
  // thread the cell left running, are kept apart too.
  await d.pysh("run", "s", 'import os, threading\nos.system("(sleep 1; echo late-orphan >&2) &")\nthreading.Thread(target=lambda: (subprocess.Popen(["sh", "-c", "sleep 1; echo thread-child"]), time.sleep(3))).start()');
  const c = await d.pysh("run", "s", 'time.sleep(2); print("third")');
  assert.equal(c.stdout, "third\n", "the thread's child's line is not the third cell's");
  assert.equal(c.stderr, "", "the orphan's line is not the third cell's");
  const j = JSON.parse((await d.pysh("output", "--json", "--since", "11", "s")).stdout);
  assert.deepEqual(j.chunks.map((x) => `${x.stream}: ${x.text}`).sort(), ["stderr: late-orphan\n", "stdout: thread-child\n"]);
  // A child's output while its cell runs is still that cell's.
  const own = await d.pysh("run", "s", 'subprocess.run(["echo", "in the cell"]); _ = p.wait()');
  assert.equal(own.stdout, "in the cell\n");
});

test("after a cell left a child running, a crashing cell's last words still arrive", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "s");
  await d.pysh("run", "s", 'import subprocess\np = subprocess.Popen(["sleep", "30"])');
  const r = await d.pysh("run", "s", 'print("last words", flush=True); import os; os._exit(1)');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "last words\n");
  assert.match(r.stderr, /^ERR session 's' dead \(exited with status 1\)/);
});
