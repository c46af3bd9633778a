// Completion and vars run user code (__dir__, __getattr__, properties) off the thread that
// answers control requests, with a deadline: a hanging attribute never blocks status or int,
// and the completion itself ends with a clear error.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { daemonFactory, cli } from "./helpers/daemon.mjs";

const make = daemonFactory(after);

const SLOW = `
import time
class Slow:
    def __dir__(self):
        time.sleep(60)
        return []
    def __getattr__(self, name):
        time.sleep(60)
ev = Slow()
`;

test("a completion stuck in user code blocks neither status, int, vars, other completions nor cells", async () => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "s")).code, 0);
  assert.equal((await d.pysh("run", "s", SLOW)).code, 0);
  const stuck = cli(d.env, "pysh", ["complete", "s", "ev."]);
  await new Promise((r) => setTimeout(r, 300)); // let it reach the agent first

  const st = await d.pysh("status", "s");
  assert.equal(st.code, 0, st.stderr);
  assert.equal(JSON.parse(st.stdout).state, "idle");
  const int = await d.pysh("int", "s");
  assert.equal(int.code, 0, int.stderr);
  const vars = await d.pysh("vars", "s");
  assert.equal(vars.code, 0, vars.stderr);
  assert.ok(JSON.parse(vars.stdout).vars.includes("ev"));
  const other = await d.pysh("complete", "s", "Sl");
  assert.equal(other.code, 0, other.stderr);
  assert.deepEqual(JSON.parse(other.stdout).matches, ["Slow()"]);
  assert.equal((await d.pysh("run", "s", "1 + 1")).stdout, "2\n");

  const r = await stuck;
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^ERR completion of 'ev\.' gave up after 3 s: user code it ran \(__dir__, __getattr__ or a property\) did not return/);
});

test("completions stuck past the limit are refused at once instead of piling up threads", async () => {
  const d = make();
  await d.start();
  assert.equal((await d.pysh("new", "s")).code, 0);
  assert.equal((await d.pysh("run", "s", SLOW)).code, 0);
  const four = await Promise.all([1, 2, 3, 4].map(() => d.pysh("complete", "s", "ev.")));
  for (const r of four) assert.match(r.stderr, /gave up after 3 s/);
  const fifth = await d.pysh("complete", "s", "ev.");
  assert.equal(fifth.code, 1);
  assert.match(fifth.stderr, /^ERR completion of 'ev\.' refused: 4 earlier requests are still stuck in user code/);
  assert.equal((await d.pysh("status", "s")).code, 0);
});
