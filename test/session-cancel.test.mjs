// Cancelling a queued cell is a final verdict at once: poll says "cancelled" (exit 1, as
// for any cell that did not succeed) and a client waiting on that cell gets its answer.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { daemonFactory, cli } from "./helpers/daemon.mjs";

const make = daemonFactory(after);

async function queuedCell(d, session, notId) {
  for (let i = 0; i < 200; i++) {
    const r = await d.pysh("cells", session);
    const cells = JSON.parse(r.stdout).cells ?? JSON.parse(r.stdout);
    const q = (Array.isArray(cells) ? cells : []).find((c) => c.state === "queued" && c.cell_id !== notId);
    if (q) return q.cell_id;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error("no queued cell appeared");
}

test("poll of a cancelled cell says cancelled and exits 1; a waiting run gets Cancelled", async () => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "c")).code, 0);
  const busy = await d.pysh("fire", "c", "import time\nfor _ in range(600): time.sleep(0.05)");
  assert.equal(busy.code, 0, busy.stderr);
  const busyId = JSON.parse(busy.stdout).cell_id;
  const fired = await d.pysh("fire", "c", "print('never')");
  const firedId = JSON.parse(fired.stdout).cell_id;
  assert.equal((await d.pysh("cancel", "c", firedId)).code, 0);

  const p = await d.pysh("poll", "c", firedId);
  assert.equal(p.code, 1, p.stdout + p.stderr);
  assert.deepEqual(JSON.parse(p.stdout), { cell_id: firedId, status: "cancelled", output: "Cancelled: cancelled before it ran", error: true });
  const pj = await d.pysh("poll", "--json", "c", firedId);
  assert.equal(pj.code, 1);
  assert.equal(JSON.parse(pj.stdout).state, "cancelled");
  // poll --wait of a cancelled cell does not wait for anything.
  const pw = await d.pysh("poll", "--wait", "20", "c", firedId);
  assert.equal(pw.code, 1);
  assert.equal(JSON.parse(pw.stdout).status, "cancelled");

  // A run queued behind the busy cell: cancelling it answers the waiting client now,
  // while the busy cell still runs.
  const waiting = cli(d.env, "pysh", ["run", "c", "print('never either')"]);
  const runId = await queuedCell(d, "c", firedId);
  assert.equal((await d.pysh("cancel", "c", runId)).code, 0);
  const w = await waiting;
  assert.equal(w.code, 1);
  assert.match(w.stderr, /Cancelled/);
  assert.equal(JSON.parse((await d.pysh("poll", "--json", "c", busyId)).stdout).state, "running");

  // The cancelled cells never run, later cells do.
  await d.pysh("int", "c");
  const r = await d.pysh("run", "c", "print('after')");
  assert.equal(r.stdout, "after\n");
});
