// pythond mcp --http: Streamable HTTP through the SDK's client; the daemon's token is required
// (right, wrong, missing, rotated), Host and Origin are checked, garbage bodies are refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { request } from "node:http";
import { TestDaemon, BIN, cli } from "./helpers/daemon.mjs";
import { mcpHttp, textOf } from "./helpers/mcp-client.mjs";

let d;
let server;
let url;
let token;
before(async () => {
  d = new TestDaemon({ PYTHOND_MCP_BUDGET: "0.5" });
  await d.start();
  server = spawn(process.execPath, [BIN("pythond"), "mcp", "--http", "127.0.0.1:0"], { env: d.env, stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL: ${err}`)), 15_000);
    server.stderr.on("data", (c) => {
      err += c;
      const m = /serving (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    server.once("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  token = readFileSync(join(d.home, ".pythond", "token"), "utf8").trim();
});
after(async () => {
  server?.kill("SIGTERM");
  await d?.cleanup();
});

/** A raw request: {status, body}. */
function raw(path, { method = "POST", headers = {}, body = "" } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers } }, (res) => {
      let b = "";
      res.on("data", (c) => (b += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: b }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const INIT = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "t", version: "1" } } });

test("the token is the daemon's (0600, what pyctl token prints) and gets a working server (default budget from PYTHOND_MCP_BUDGET)", async () => {
  assert.equal(statSync(join(d.home, ".pythond", "token")).mode & 0o777, 0o600);
  assert.match(token, /^[0-9a-f]{32}$/);
  assert.equal((await cli(d.env, "pyctl", ["token"])).stdout.trim(), token);
  assert.equal(existsSync(join(d.home, ".pythond", "mcp-token")), false, "no token of its own");
  const c = await mcpHttp(url, token);
  try {
    assert.equal(textOf(await c.callTool({ name: "python_run", arguments: { code: "y = 6 * 7\ny" } })), "42");
    const r = await c.callTool({ name: "python_run", arguments: { code: "import time\ntime.sleep(2)\n'slow'" } });
    assert.match(textOf(r), /still running/, "a 0.5 s default budget hands over");
    assert.equal(textOf(await c.callTool({ name: "python_wait", arguments: { timeout_s: 20 } })), "slow");
  } finally {
    await c.close();
  }
});

test("a wrong or missing token is refused with 401", async () => {
  await assert.rejects(mcpHttp(url, "0".repeat(32)), /401|Unauthorized|token/i);
  await assert.rejects(mcpHttp(url, null), /401|Unauthorized|token/i);
  const r = await raw("/mcp", { headers: { authorization: `Bearer ${token}x` }, body: INIT });
  assert.equal(r.status, 401);
  assert.match(r.headers["www-authenticate"], /^Bearer/);
});

test("a foreign Origin or Host is refused even with the token", async () => {
  let r = await raw("/mcp", { headers: { authorization: `Bearer ${token}`, origin: "http://evil.example" }, body: INIT });
  assert.equal(r.status, 403);
  r = await raw("/mcp", { headers: { authorization: `Bearer ${token}`, host: "evil.example" }, body: INIT });
  assert.equal(r.status, 421);
  r = await raw("/mcp", { headers: { authorization: `Bearer ${token}`, origin: url.replace(/\/mcp$/, "") }, body: INIT });
  assert.equal(r.status, 200, r.body);
});

test("garbage is refused: not JSON, no session, wrong path", async () => {
  const auth = { authorization: `Bearer ${token}` };
  let r = await raw("/mcp", { headers: auth, body: "{not json" });
  assert.equal(r.status, 400);
  assert.match(r.body, /Parse error/);
  r = await raw("/mcp", { headers: auth, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) });
  assert.equal(r.status, 400);
  r = await raw("/mcp", { headers: { ...auth, "mcp-session-id": "nope" }, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) });
  assert.equal(r.status, 404);
  r = await raw("/other", { headers: auth, body: INIT });
  assert.equal(r.status, 404);
});

test("--http refuses addresses that are not loopback", async () => {
  const r = await cli(d.env, "pythond", ["mcp", "--http", "0.0.0.0:8765"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /loopback only/);
  const r2 = await cli(d.env, "pythond", ["mcp", "--http", "nonsense"]);
  assert.equal(r2.code, 2);
});

test("pyctl token --rotate: the old bearer is refused from the next request, the new one works", async () => {
  const old = token;
  const rotated = await cli(d.env, "pyctl", ["token", "--rotate"]);
  assert.equal(rotated.code, 0, rotated.stderr);
  const fresh = rotated.stdout.trim();
  assert.notEqual(fresh, old);
  const r = await raw("/mcp", { headers: { authorization: `Bearer ${old}` }, body: INIT });
  assert.equal(r.status, 401);
  await assert.rejects(mcpHttp(url, old), /401|Unauthorized|token/i);
  const c = await mcpHttp(url, fresh);
  try {
    assert.equal(textOf(await c.callTool({ name: "python_run", arguments: { code: "6 * 7" } })), "42");
  } finally {
    await c.close();
  }
  token = fresh;
});
