// pysh attach through a proxy, in a real terminal (tmux): the remote session's prompt and
// namespace, resize, the replay a late viewer gets, several viewers, Ctrl-D and Ctrl-].
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { daemonFactory, BIN } from "./helpers/daemon.mjs";
import { Tmux } from "./helpers/tmux.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
import { listeningRemote, connectTo } from "./helpers/proxy-env.mjs";

const newDaemon = daemonFactory(after);
let R, L, tm;
before(async () => {
  R = newDaemon();
  const remote = await listeningRemote(R);
  L = newDaemon();
  await L.start();
  assert.equal((await connectTo(L, "work", `127.0.0.1:${remote.port}`, remote)).code, 0);
  assert.equal((await L.pysh("new", "work")).code, 0);
  assert.equal((await R.pysh("run", "work", "remote_value = 41")).code, 0);
  tm = new Tmux(L.env);
});
after(() => tm?.kill());

const attachCmd = (...args) => `${BIN("pysh")} attach ${args.join(" ")}`;

test("attach through the alias: the remote session's prompt and namespace, both ways", async () => {
  tm.open("w1", attachCmd("work"));
  await tm.waitFor("w1", />>> $/m);
  tm.type("w1", "remote_value + 1");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^42$/m);
  tm.type("w1", "typed_here = 'via proxy'");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /typed_here = 'via proxy'\n>>> $/m);
  assert.equal((await R.pysh("run", "work", "typed_here")).stdout, "via proxy\n");
  await L.pysh("run", "work", "print('agent' + ' cell')");
  await tm.waitFor("w1", "[agent] run: print('agent' + ' cell')\nagent cell\n");
});

test("a resize through the proxy reaches os.get_terminal_size() on the remote", async () => {
  tm.tmux("resize-window", "-t", "main:w1", "-x", "93", "-y", "26");
  await sleep(500);
  tm.type("w1", "tuple(os.get_terminal_size())");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^\(93, 26\)$/m);
});

test("several viewers: a late one gets the replay, each sees the other's input; Ctrl-D detaches one, Ctrl-] the other", async () => {
  tm.type("w1", "print('before-' + 'second')");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^before-second$/m);
  tm.open("w2", attachCmd("work"));
  await tm.waitFor("w2", /^before-second$/m);
  tm.type("w2", "from_second = 'typed-in-' + 'w2'");
  tm.keys("w2", "Enter");
  await tm.waitFor("w1", "from_second = 'typed-in-' + 'w2'");
  tm.type("w1", "from_second");
  tm.keys("w1", "Enter");
  await tm.waitFor("w2", /^'typed-in-w2'$/m);
  const screen = tm.screen("w2");
  assert.equal(screen.split("'typed-in-w2'").length - 1, 1, "live bytes are not doubled by the second remote attach");
  tm.keys("w2", "C-d");
  await tm.waitFor("w2", /^EXIT=0$/m);
  tm.type("w1", "print('still' + ' attached')");
  tm.keys("w1", "Enter");
  await tm.waitFor("w1", /^still attached$/m);
  tm.keys("w1", "C-]");
  await tm.waitFor("w1", /^EXIT=0$/m);
  assert.equal((await L.pysh("run", "work", "from_second")).stdout, "typed-in-w2\n");
});

test("the explicit form attaches to another remote session", async () => {
  assert.equal((await L.pysh("new", "work", "other")).code, 0);
  await R.pysh("run", "other", "marker = 'other session'");
  tm.open("w3", attachCmd("work", "other"));
  await tm.waitFor("w3", />>> $/m);
  tm.type("w3", "marker");
  tm.keys("w3", "Enter");
  await tm.waitFor("w3", /^'other session'$/m);
  tm.keys("w3", "C-]");
  await tm.waitFor("w3", /^EXIT=0$/m);
});
