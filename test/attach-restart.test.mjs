// An attach ended by `pyctl restart` (issue 9, item 15): pysh says so and re-attaches to the
// same live session by itself; a `pyctl stop` ends it with a message saying why. Real terminal (tmux).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { TestDaemon, BIN as bin } from "./helpers/daemon.mjs";
import { Tmux } from "./helpers/tmux.mjs";

let d;
let tm;
after(async () => {
  tm?.kill();
  await d?.cleanup();
});

test("pyctl restart: the attached pysh re-attaches to the same namespace; pyctl stop: it says how it ended", async () => {
  d = new TestDaemon();
  await d.start();
  tm = new Tmux(d.env);
  d.pyshSync("new", "r");
  d.pyshSync("run", "r", "before = 41");
  tm.open("w", `${bin("pysh")} attach r`);
  await tm.waitFor("w", />>> $/m);
  const out = execFileSync(bin("pyctl"), ["restart"], { env: d.env, encoding: "utf8", timeout: 60_000 });
  assert.match(out, /^OK restarted \(1 session re-adopted\)\n$/);
  await tm.waitFor("w", /the daemon is restarting; re-attaching to "r"\.\.\.[\s\S]*attached to "r"/);
  tm.type("w", "before + 1");
  tm.keys("w", "Enter");
  await tm.waitFor("w", /^42$/m);
  execFileSync(bin("pyctl"), ["stop"], { env: d.env, encoding: "utf8", timeout: 30_000 });
  const screen = await tm.waitFor("w", /EXIT=\d+/);
  assert.match(screen, /ERR the daemon stopped \(its sessions ended with it\); attach again with: pysh attach r\n/);
  assert.match(screen, /EXIT=1/);
});
