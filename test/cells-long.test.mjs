// Long work: no built-in wall-clock limit, --timeout hands over to poll --wait, a client that
// disconnects mid-cell loses nothing, output streams live, --json streams JSON lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { startedDaemon, cli, BIN as bin } from "./helpers/daemon.mjs";

test("a 40 s cell runs to the end with no timeout", { timeout: 120_000 }, async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  const r = await cli(d.env, "pysh", ["run", "w", "import time\nt0 = time.time()\ntime.sleep(40)\nprint('slept', round(time.time() - t0))"], { timeoutMs: 100_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "slept 40\n");
  assert.equal((await d.pysh("run", "w", "'still here'")).stdout, "still here\n");
});

test("--timeout: exit 124 with the cell id on stderr; the cell goes on and poll --wait gets all its output", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  const r = await d.pysh("run", "--timeout", "1", "w", "import time\nfor i in range(4):\n  print('tick', i, flush=True)\n  time.sleep(0.6)\n'finished'");
  assert.equal(r.code, 124);
  const m = r.stderr.match(/cell ([0-9a-f]{12}) keeps running: pysh poll --wait w \1/);
  assert.ok(m, r.stderr);
  assert.match(r.stdout, /^tick 0\n/);
  const p = await d.pysh("poll", "--wait", "30", "w", m[1]);
  assert.equal(p.code, 0);
  assert.deepEqual(JSON.parse(p.stdout), { cell_id: m[1], status: "done", output: "tick 0\ntick 1\ntick 2\ntick 3\nfinished" });
  // poll --wait that runs out reports "running" and exits 124.
  const f = JSON.parse((await d.pysh("fire", "w", "import time; time.sleep(30)")).stdout);
  const short = await d.pysh("poll", "--wait", "0.5", "w", f.cell_id);
  assert.equal(short.code, 124);
  assert.equal(JSON.parse(short.stdout).status, "running");
  await d.pysh("int", "w");
});

test("a client killed mid-cell loses nothing: poll returns the whole output", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  const p = spawn(process.execPath, [bin("pysh"), "run", "w", "import time\nfor i in range(5):\n  print('line', i, flush=True)\n  time.sleep(0.3)\nprint('end')"], { env: d.env, stdio: ["ignore", "pipe", "pipe"] });
  const first = await new Promise((resolve) => {
    let seen = "";
    p.stdout.on("data", (x) => {
      seen += x;
      if (seen.includes("line 0")) resolve(seen);
    });
  });
  assert.match(first, /^line 0/); // output arrived live, before the cell ended
  assert.doesNotMatch(first, /end/);
  p.kill("SIGKILL");
  await new Promise((r) => p.on("close", r));
  const r = JSON.parse((await d.pysh("poll", "--wait", "30", "w")).stdout);
  assert.equal(r.status, "done");
  assert.equal(r.output, "line 0\nline 1\nline 2\nline 3\nline 4\nend");
});

test("run --json streams JSON lines and ends with the result object", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  const r = await d.pysh("run", "--json", "w", "import sys\nprint('out')\nprint('err', file=sys.stderr)\n41 + 1");
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const last = lines.pop();
  assert.ok(lines.length >= 2);
  assert.equal(lines.filter((l) => l.stream === "stdout").map((l) => l.text).join(""), "out\n42\n");
  assert.equal(lines.filter((l) => l.stream === "stderr").map((l) => l.text).join(""), "err\n");
  assert.equal(last.ok, true);
  assert.equal(last.value, "42");
  assert.equal(last.stdout, "out\n42\n");
  assert.equal(last.stderr, "err\n");
});

test("cells lists state, start time and duration; control answers while a cell runs", async (t) => {
  const d = await startedDaemon(t);
  await d.pysh("new", "w");
  await d.pysh("run", "w", "a = 1");
  const f = JSON.parse((await d.pysh("fire", "w", "import time; time.sleep(30)")).stdout);
  for (const verb of [["status", "w"], ["vars", "w"], ["complete", "w", "ti"], ["poll", "w"], ["ls"], ["cells", "w"]]) {
    const r = await d.pysh(...verb);
    assert.equal(r.code, 0, `${verb[0]}: ${r.stderr}`);
  }
  const cells = JSON.parse((await d.pysh("cells", "w")).stdout).cells;
  assert.equal(cells.length, 2);
  assert.equal(cells[0].state, "done");
  assert.equal(typeof cells[0].started_at, "number");
  assert.equal(typeof cells[0].duration, "number");
  assert.equal(cells[1].cell_id, f.cell_id);
  assert.equal(cells[1].state, "running");
  await d.pysh("int", "w");
});
