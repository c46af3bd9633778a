// What a long-lived session keeps is bounded (issue 16, "How cost grows"): past 1,000 cells the
// oldest finished ones are evicted (and reported as such), so per-request cost cannot grow with
// the cells a session has run; history.py and session.log grow by appends only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory } from "./helpers/daemon.mjs";
import { Client } from "../dist/index.js";

const newDaemon = daemonFactory(test.after);

test("a session keeps at most 1,000 cells; older ones are evicted and polled as evicted", async () => {
  const d = newDaemon();
  await d.start();
  const c = await Client.connect({ socket: d.sock, autostart: false });
  try {
    await c.request("new", { session: "long" });
    const first = await c.request("fire", { session: "long", code: "n = 0" });
    const ids = [];
    let next = 0;
    const lane = async () => {
      while (next < 1_100) {
        const i = next++;
        ids[i] = (await c.request("fire", { session: "long", code: `n = ${i}` })).cell_id;
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    const last = await c.request("poll", { session: "long", cell: ids.at(-1), wait: 60 });
    assert.equal(last.state, "done");
    // The done record leaves before the agent's bookkeeping of the ended cell: wait for it.
    const settled = async (evicted) => {
      const until = Date.now() + 10_000;
      for (;;) {
        const st = await c.request("status", { session: "long" });
        if (st.evicted >= evicted || Date.now() > until) return st;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const st = await settled(101);
    assert.equal(st.cells, 1_000);
    assert.equal(st.evicted, 101);
    assert.equal((await c.request("poll", { session: "long", cell: first.cell_id })).state, "evicted");
    assert.equal((await c.request("poll", { session: "long", cell: ids.at(-1) })).state, "done");
    // One more cell evicts exactly one more: the store stays at its cap.
    await c.run("long", "x = 1");
    const after = await settled(102);
    assert.equal(after.cells, 1_000);
    assert.equal(after.evicted, 102);
    // session.log still has every cell: a fire cell's launch and its result, and the run.
    const log = readFileSync(join(d.home, ".pythond/sessions/long/session.log"), "utf8");
    assert.equal(log.split("\n# [").length - 1, 2 * 1_101 + 1);
  } finally {
    c.close();
  }
});
