// The warm spare agent (src/daemon/spare.ts): a default `new` claims it, it is never listed,
// never leaks (killed on stop, and by a daemon re-adopting after a kill -9), and a non-default
// `new` (cwd/env/python) never takes it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory } from "./helpers/daemon.mjs";

const fresh = daemonFactory(after);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Python agents of this daemon (its processes whose command line is a python). */
function agentPids(d) {
  const pythons = d.ourPids().filter((pid) => {
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0")[0];
      return /^python/.test(argv0.split("/").pop());
    } catch {
      return false;
    }
  });
  // Each agent's interpreter is the child of its keeper (agent/pythond_agent/keeper.py).
  const parent = (pid) => {
    try {
      return Number(readFileSync(`/proc/${pid}/stat`, "latin1").replace(/^.*\) /s, "").split(" ")[1]);
    } catch {
      return 0;
    }
  };
  return pythons.filter((pid) => pythons.includes(parent(pid)));
}
async function until(what, f, ms = 10_000) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
const lsJson = async (d) => JSON.parse((await d.pysh("ls", "--json")).stdout);

test("a default new claims the warm spare: renamed, unlisted, its own history; the next spare starts", async () => {
  const d = fresh();
  await d.start();
  assert.equal((await d.pysh("new", "a")).code, 0);
  await until("a spare beside session a", () => agentPids(d).length === 2);
  const [aInfo] = await lsJson(d);
  const sparePid = agentPids(d).find((p) => p !== aInfo.pid);
  assert.ok(sparePid);
  assert.deepEqual((await lsJson(d)).map((s) => s.name), ["a"], "the spare is never listed");

  const b = await d.pysh("new", "b");
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout, `OK b pid=${sparePid}\n`, "b is the spare, renamed");
  const ls = await lsJson(d);
  assert.deepEqual(ls.map((s) => s.name).sort(), ["a", "b"]);
  assert.equal((await d.pysh("run", "b", "x = 41")).code, 0);
  assert.equal((await d.pysh("run", "b", "x + 1")).stdout, "42\n");
  assert.match(readFileSync(join(d.home, ".pythond", "sessions", "b", "history.py"), "utf8"), /x = 41/);
  assert.ok(!existsSync(join(d.home, ".pythond", "sessions", ".spare")), "nothing is written under the spare's name");
  await until("the next spare", () => agentPids(d).length === 3);
});

test("a new with cwd or env never takes the spare; the spare keeps the defaults", async () => {
  const d = fresh();
  await d.start();
  await d.pysh("new", "a");
  await until("a spare", () => agentPids(d).length === 2);
  const [aInfo] = await lsJson(d);
  const sparePid = agentPids(d).find((p) => p !== aInfo.pid);
  const dir = join(d.dir, "elsewhere");
  mkdirSync(dir);
  const c = await d.pysh("new", "--cwd", dir, "--env", "ZZ_MARK=1", "c");
  assert.equal(c.code, 0, c.stderr);
  assert.notEqual(c.stdout, `OK c pid=${sparePid}\n`);
  assert.equal((await d.pysh("run", "c", "import os; os.getcwd(), os.environ.get('ZZ_MARK')")).stdout, `('${dir}', '1')\n`);
  assert.ok(agentPids(d).includes(sparePid), "the spare is still waiting");
  const e = await d.pysh("new", "e");
  assert.equal(e.stdout, `OK e pid=${sparePid}\n`);
  assert.equal((await d.pysh("run", "e", "import os; os.environ.get('ZZ_MARK')")).stdout, "");
});

test("the spare never leaks: pyctl stop ends it, a daemon killed with -9 leaves it to the next one, which kills it", async () => {
  const d = fresh();
  const first = await d.start();
  await d.pysh("new", "keep");
  await until("a spare", () => agentPids(d).length === 2);
  const [keep] = await lsJson(d);
  const sparePid = agentPids(d).find((p) => p !== keep.pid);
  first.kill("SIGKILL");
  await new Promise((r) => first.once("exit", r));
  process.kill(sparePid, 0); // still there, like every agent of a killed daemon
  await d.start();
  assert.deepEqual((await lsJson(d)).map((s) => [s.name, s.pid]), [["keep", keep.pid]], "the old spare is not adopted");
  await until("the old spare to end", () => !agentPids(d).includes(sparePid));
  // A spare starts after the next default new; stop must end it and every session.
  await d.pysh("new", "more");
  await until("a new spare", () => agentPids(d).length === 3);
  assert.equal((await d.pyctl("stop")).code, 0);
  await until("every agent to end", () => agentPids(d).length === 0);
});

test("PYTHOND_SPARE=0: no spare is started", async () => {
  const d = fresh({ PYTHOND_SPARE: "0" });
  await d.start();
  await d.pysh("new", "a");
  await sleep(500);
  assert.equal(agentPids(d).length, 1);
});
