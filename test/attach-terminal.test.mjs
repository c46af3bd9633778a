// pysh attach in a real terminal (tmux): the human REPL shares the agent's live namespace.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { TestDaemon, BIN as bin } from "./helpers/daemon.mjs";
import { Tmux } from "./helpers/tmux.mjs";

let d;
let tm;
before(async () => {
  d = new TestDaemon();
  await d.start();
  tm = new Tmux(d.env);
  d.pyshSync("new", "s");
  d.pyshSync("run", "s", "agent_value = 41");
});
after(async () => {
  tm?.kill();
  await d?.cleanup();
});

const attachCmd = (session, extra = "") => `${bin("pysh")} attach ${extra} ${session}`;

test("prompt, shared namespace both ways, agent cells announced", async () => {
  tm.open("w1", attachCmd("s"));
  await tm.waitFor("w1", />>> $/m);
  tm.type("w1", "agent_value + 1");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^42$/m);
  tm.type("w1", "human_value = [1, 2, 3]");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /human_value = \[1, 2, 3\]\n>>> $/m);
  assert.equal(d.pyshSync("run", "s", "sum(human_value)").trim(), "6");
  await tm.waitFor("w1", "[agent] run: sum(human_value)\n6\n>>>");
  d.pyshSync("run", "s", "for i in range(2):\n    print('line', i)");
  await tm.waitFor("w1", "[agent] run: for i in range(2):\n[agent]   :     print('line', i)\nline 0\nline 1\n");
  // the human's cells are logged like the agent's
  const log = readFileSync(join(d.home, ".pythond", "sessions", "s", "session.log"), "utf8");
  assert.match(log, /human_value = \[1, 2, 3\]/);
  const hist = readFileSync(join(d.home, ".pythond", "sessions", "s", "history.py"), "utf8");
  assert.match(hist, /human_value = \[1, 2, 3\]/);
});

test("line editing: Up recalls, Tab completes a unique name, Ctrl-A/K, multi-line def", async () => {
  tm.type("w1", "unique_long_name_xyz = 5");
  tm.keys("w1", "Enter");
  tm.type("w1", "unique_long_na");
  tm.keys("w1", "Tab");
  await tm.waitFor("w1", />>> unique_long_name_xyz$/m);
  tm.type("w1", " * 3");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^15$/m);
  tm.keys("w1", "Up");
  await tm.waitFor("w1", />>> unique_long_name_xyz \* 3$/m);
  tm.keys("w1", "C-a", "C-k");
  tm.type("w1", "'edited'");
  tm.keys("w1", "Left", "Left", "BSpace");
  tm.type("w1", "E");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^'editEd'$/m);
  tm.type("w1", "def twice(x):");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^\.\.\. $/m);
  tm.type("w1", "    return x * 2");
  tm.keys("w1", "Enter", "Enter");
  tm.type("w1", "twice(21)");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /twice\(21\)\n42\n>>> $/m);
  assert.equal(d.pyshSync("run", "s", "twice(4)").trim(), "8");
});

test("Ctrl-C interrupts time.sleep(100); input() reads a typed line", async () => {
  tm.type("w1", "import time; time.sleep(100)");
  tm.keys("w1", "Enter");
  await sleep(500);
  tm.keys("w1", "C-c");
  await tm.waitFor("w1", /KeyboardInterrupt\n>>> $/m, 10_000);
  tm.type("w1", "answer = input('name? ')");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /name\? $/m);
  tm.type("w1", "bob");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /name\? bob\n>>> $/m);
  assert.equal(d.pyshSync("run", "s", "answer").trim(), "bob");
});

test("a resize reaches os.get_terminal_size()", async () => {
  tm.tmux("resize-window", "-t", "main:w1", "-x", "91", "-y", "27");
  await sleep(300);
  tm.type("w1", "tuple(os.get_terminal_size())");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^\(91, 27\)$/m);
});

test("two attached clients see each other's input; a late attacher sees earlier output", async () => {
  tm.type("w1", "print('before-' + 'second')");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^before-second$/m);
  tm.open("w2", attachCmd("s"));
  await tm.waitFor("w2", /^before-second$/m); // replayed screen
  tm.type("w2", "from_second = 'typed-in-' + 'w2'");
  tm.keys("w2", "Enter");
  await tm.waitFor("w1", "from_second = 'typed-in-' + 'w2'");
  tm.type("w1", "from_second");
  tm.keys("w1", "Enter");
  await tm.waitFor("w2", /^'typed-in-w2'$/m);
  tm.open("ro", attachCmd("s", "--read-only"));
  await tm.waitFor("ro", "'typed-in-w2'");
  tm.type("ro", "should_not_arrive = 1");
  tm.keys("ro", "Enter");
  await sleep(500);
  assert.equal(d.pyshSync("run", "s", "'should_not_arrive' in globals()").trim(), "False");
  tm.keys("ro", "C-]");
  await tm.waitFor("ro", /^EXIT=0$/m);
  tm.keys("w2", "C-d"); // Ctrl-D on an empty line detaches too
  await tm.waitFor("w2", /^EXIT=0$/m);
});

test("Ctrl-] detaches with exit 0 and restores the terminal; history survives re-attach", async () => {
  tm.keys("w1", "C-]");
  const screen = await tm.waitFor("w1", /^EXIT=0\n(-?icanon)$/m);
  assert.match(screen, /^EXIT=0\nicanon$/m, "the terminal is back in canonical (cooked) mode");
  assert.equal(d.pyshSync("run", "s", "agent_value").trim(), "41", "the session lives on");
  const histFile = join(d.home, ".pythond", "sessions", "s", "repl_history");
  assert.equal(statSync(histFile).mode & 0o777, 0o600);
  assert.match(readFileSync(histFile, "utf8"), /^from_second$/m);
  tm.open("w3", attachCmd("s"));
  await tm.waitFor("w3", />>> $/m);
  tm.keys("w3", "Up");
  await tm.waitFor("w3", />>> from_second$/m);
  tm.keys("w3", "C-u");
  tm.type("w3", "exit()");
  tm.keys("w3", "Enter");
  await tm.waitFor("w3", "pysh kill s");
  assert.equal(d.pyshSync("run", "s", "1 + 1").trim(), "2", "exit() does not end the session");
  tm.keys("w3", "C-]");
  await tm.waitFor("w3", /^EXIT=0$/m);
});

test("attach without a TTY is refused", () => {
  let err;
  try {
    execFileSync(bin("pysh"), ["attach", "s"], { env: d.env, input: "", encoding: "utf8", timeout: 10_000, stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    err = e;
  }
  assert.ok(err, "pysh attach must fail without a TTY");
  assert.equal(err.status, 1);
  assert.equal(err.stderr, "ERR attach failed: attach requires a TTY\n");
});
