// pythond mcp against a remote daemon: a real daemon listening on 127.0.0.1 over TLS in one
// HOME, a client HOME that pinned its certificate, and `bin/pythond mcp` spawned there by the
// MCP SDK's own client with PYTHOND_HOST, PYTHOND_TLS and PYTHOND_TOKEN_FILE. State is kept
// across calls; what lives only in files on the daemon's host (history.py, images) is a clear
// error or note, never a file of the same name on the MCP server's machine.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { daemonFactory } from "./helpers/daemon.mjs";
import { startListening, RemoteClient, tokenOf } from "./helpers/remote.mjs";
import { mcpStdio, textOf } from "./helpers/mcp-client.mjs";

const newDaemon = daemonFactory(after);
let d, client, c;

before(async () => {
  d = newDaemon();
  const { port } = await startListening(d, ["--listen", "127.0.0.1:0", "--tls"]);
  const token = await tokenOf(d);
  const sha256 = JSON.parse((await d.pyctl("cert", "--json")).stdout).sha256;
  client = new RemoteClient(d, "mcp", port);
  const pinned = await client.pyctl("pin", `127.0.0.1:${port}`, "--expect", sha256);
  assert.equal(pinned.code, 0, pinned.stderr);
  const tokenFile = join(client.home, "daemon-token");
  writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
  delete client.env.PYTHOND_TOKEN;
  client.env.PYTHOND_TOKEN_FILE = tokenFile;
  // The MCP server's own machine has a history.py of the same name that is not the daemon's.
  const decoy = join(client.home, ".pythond", "sessions", "mcp");
  mkdirSync(decoy, { recursive: true, mode: 0o700 });
  writeFileSync(join(decoy, "history.py"), "decoy = 'a file of the MCP server machine'\n", { mode: 0o600 });
  c = await mcpStdio(client.env);
});
after(async () => {
  await c?.close();
});

const run = (code, args = {}) => c.callTool({ name: "python_run", arguments: { code, ...args } });

test("python_run twice keeps state in the remote daemon's session; python_sessions lists it", async () => {
  let r = await run("x = 41\nprint('remote')");
  assert.equal(r.isError, undefined, textOf(r));
  assert.match(textOf(r), /remote/);
  r = await run("x + 1");
  assert.equal(textOf(r), "42");
  const s = await c.callTool({ name: "python_sessions", arguments: {} });
  assert.match(textOf(s), /\bmcp\b/);
  // the session really is the daemon's: its own pysh sees it
  assert.match((await d.pysh("ls")).stdout, /^  mcp: alive/m);
});

test("a cell's whole output is a resource over the connection; history.py is a clear error naming the daemon's host", async () => {
  const r = await run("for i in range(20_000):\n    print(f'{i:09d}' + 'y' * 90)");
  const m = /the whole output: resource (pythond:\/\/sessions\/mcp\/cells\/[0-9a-f]{12})\]/.exec(textOf(r));
  assert.ok(m, textOf(r).slice(0, 300));
  const whole = (await c.readResource({ uri: m[1] })).contents[0].text;
  assert.equal(whole.length, 20_000 * 100);
  await assert.rejects(c.readResource({ uri: "pythond://sessions/mcp/history" }), /history of mcp .*is on the daemon's host 127\.0\.0\.1:\d+.*run pythond mcp there/s);
});

test("an image of a remote session is named, not read from a file of the same name on this machine", async () => {
  const n = await c.callTool({ name: "python_new", arguments: { session: "pics", python: "/usr/bin/python3" } });
  assert.equal(n.isError, undefined, textOf(n));
  const r = await run("from PIL import Image\nImage.new('RGB', (4, 4), 'red')", { session: "pics" });
  assert.equal(r.content.filter((p) => p.type === "image").length, 0, "not inlined from a local path");
  assert.match(textOf(r), /\[image 0 is at \S+\.png on the daemon's host 127\.0\.0\.1:\d+; .*run pythond mcp there/);
});
