// Ctrl-C on a waiting `pysh run` (issue 9, item 10): SIGINT sent to the real pysh process.
// The first interrupts the cell, as Ctrl-C in a terminal would; a second stops waiting and
// leaves the cell running, printing its id and how to poll it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { BIN, startedDaemon } from "./helpers/daemon.mjs";

/** Start `pysh run` and collect its output; `until(text)` waits for stdout to contain text. */
function startRun(env, args) {
  const child = spawn(process.execPath, [BIN("pysh"), "run", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const p = { child, stdout: "", stderr: "" };
  child.stdout.on("data", (d) => (p.stdout += d));
  child.stderr.on("data", (d) => (p.stderr += d));
  p.exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  p.until = async (re, what = "stdout") => {
    const deadline = Date.now() + 20_000;
    while (!re.test(p[what])) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in ${what}: ${JSON.stringify(p)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return p;
}

const daemon = (t) => startedDaemon(t, "s");

test("the first Ctrl-C interrupts the running cell: KeyboardInterrupt, exit 130, session intact", async (t) => {
  const d = await daemon(t);
  await d.pysh("run", "s", "kept = 7");
  const p = startRun(d.env, ["s", "import time\nprint('started', flush=True)\ntime.sleep(120)"]);
  await p.until(/started/);
  p.child.kill("SIGINT");
  assert.equal(await p.exited, 130, p.stderr);
  assert.match(p.stderr, /interrupting cell [0-9a-f]{12}/);
  assert.match(p.stderr, /KeyboardInterrupt/);
  const st = JSON.parse((await d.pysh("status", "s")).stdout);
  assert.equal(st.state, "idle");
  assert.equal((await d.pysh("run", "s", "kept")).stdout, "7\n");
});

test("a second Ctrl-C detaches: the cell keeps running, its id and the poll command are printed", async (t) => {
  const d = await daemon(t);
  // A cell that survives KeyboardInterrupt, so that the second Ctrl-C has something to leave.
  const code = "import time\nprint('started', flush=True)\nwhile True:\n    try:\n        time.sleep(120)\n    except KeyboardInterrupt:\n        print('interrupted', flush=True)\n        break\ntime.sleep(1.5)\nprint('finished')";
  const p = startRun(d.env, ["s", code]);
  await p.until(/started/);
  p.child.kill("SIGINT");
  await p.until(/interrupted/);
  p.child.kill("SIGINT");
  assert.equal(await p.exited, 130, p.stderr);
  const m = /pysh: stopped waiting; cell ([0-9a-f]{12}) keeps running: pysh poll --wait s \1\n/.exec(p.stderr);
  assert.ok(m, p.stderr);
  const polled = await d.pysh("poll", "--wait", "30", "s", m[1]);
  assert.equal(polled.code, 0, polled.stderr);
  const r = JSON.parse(polled.stdout);
  assert.equal(r.status, "done");
  assert.match(r.output, /started\ninterrupted\nfinished$/);
});

test("Ctrl-C with --json ends with a JSON object carrying the cell id", async (t) => {
  const d = await daemon(t);
  const p = startRun(d.env, ["--json", "s", "import time\nprint('started', flush=True)\ntime.sleep(120)"]);
  await p.until(/started/);
  p.child.kill("SIGINT");
  assert.equal(await p.exited, 130);
  const last = JSON.parse(p.stdout.trim().split("\n").pop());
  assert.equal(last.ok, false);
  assert.equal(last.error.type, "KeyboardInterrupt");
  assert.match(last.cell_id, /^[0-9a-f]{12}$/);
});

test("Ctrl-C on a run still queued behind another cell drops it, leaving the running one alone", async (t) => {
  const d = await daemon(t);
  const busy = JSON.parse((await d.pysh("fire", "s", "import time; time.sleep(3); busy_done = True")).stdout);
  const p = startRun(d.env, ["s", "print('must not run')"]);
  const until = Date.now() + 20_000;
  while (JSON.parse((await d.pysh("status", "s")).stdout).queued.length < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  p.child.kill("SIGINT");
  assert.equal(await p.exited, 130, p.stderr);
  assert.match(p.stderr, /pysh: cell [0-9a-f]{12} was still queued: Cancelled, it never ran\n/);
  assert.doesNotMatch(p.stdout, /must not run/);
  const polled = JSON.parse((await d.pysh("poll", "--wait", "30", "s", busy.cell_id)).stdout);
  assert.equal(polled.status, "done");
  assert.equal((await d.pysh("run", "s", "busy_done")).stdout, "True\n");
});
