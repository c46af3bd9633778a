// The web page (pyctl web) in a real headless browser: Debian's chromium driven by
// playwright-core, against a real daemon, real agents and the real `pyctl web` server.
// The tests run in order and share one daemon, one web server and one browser.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, request } from "node:http";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { TestDaemon, BIN, ROOT } from "./helpers/daemon.mjs";
import { launchBrowser, noBrowser } from "./helpers/browser.mjs";

const OUT = join(ROOT, "test-output");
const opts = { skip: noBrowser };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let d, web, webErr = "", url, base, token, browser, page;

/** Start `pyctl web`; resolves with the address it prints. */
function startWeb(env, args = ["--listen", "127.0.0.1:0"]) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN("pyctl"), "web", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`pyctl web printed no address: ${webErr}`)), 20_000);
    child.stdout.on("data", (c) => {
      out += c;
      const line = out.split("\n")[0];
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve({ child, address: line });
      }
    });
    child.stderr.on("data", (c) => (webErr += c));
    child.once("exit", (code) => reject(new Error(`pyctl web exited (${code}): ${webErr}`)));
  });
}

/** An HTTP request with full control of the headers (browsers would not send these). */
function http(path, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(path, base);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method, headers }, (res) => {
      const parts = [];
      res.on("data", (c) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A WebSocket to the page's /ws from Node: resolves open, or the HTTP status it was refused with. */
function rawWs(headers) {
  return new Promise((resolve) => {
    const ws = new WebSocket(new URL("/ws", base).href.replace(/^http/, "ws"), { headers });
    const msgs = [];
    ws.on("message", (data, isBinary) => msgs.push(isBinary ? { binary: Buffer.from(data) } : JSON.parse(data.toString())));
    ws.once("open", () => resolve({ ws, msgs }));
    ws.once("unexpected-response", (_req, res) => resolve({ status: res.statusCode }));
    ws.once("error", (e) => resolve({ error: e }));
  });
}

async function cookieHeader() {
  const cookies = await browser.context.cookies();
  const c = cookies.find((x) => x.name === "pythond_web");
  return `pythond_web=${c.value}`;
}

const screenText = (p = page) => p.evaluate(() => window.pythondWeb.screenText());
async function waitScreen(pattern, p = page, ms = 20_000) {
  await p.waitForFunction(([src, flags]) => new RegExp(src, flags).test(window.pythondWeb.screenText()), [pattern.source, pattern.flags], { timeout: ms });
}
/** Type a line and wait until the prompt is back after it (the REPL took it). */
async function typeLine(line, p = page) {
  const prompts = ((await screenText(p)).match(/^>>>/gm) ?? []).length;
  await p.keyboard.type(line);
  await p.keyboard.press("Enter");
  await p.waitForFunction((n) => (window.pythondWeb.screenText().match(/^>>>/gm) ?? []).length > n, prompts, { timeout: 20_000 });
}

before(async () => {
  if (noBrowser) return;
  d = new TestDaemon();
  await d.start();
  assert.equal((await d.pysh("new", "work")).code, 0);
  const started = await startWeb(d.env);
  web = started.child;
  url = started.address;
  base = url.split("#")[0];
  token = url.split("#token=")[1];
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
});

after(async () => {
  await browser?.close();
  web?.kill("SIGTERM");
  await d?.cleanup();
});

test("pyctl web prints an address whose token (the daemon's) is in the fragment, kept in a 0600 file in a 0700 dir", opts, () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{32}$/);
  const file = join(d.home, ".pythond", "token");
  assert.equal(readFileSync(file, "utf8").trim(), token);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(d.home, ".pythond")).mode & 0o777, 0o700);
  assert.ok(!webErr.includes(token), "the token is not on stderr");
});

test("without the token: 401 and no page, no files, no WebSocket", opts, async () => {
  const r = await http("/");
  assert.equal(r.status, 401);
  assert.doesNotMatch(r.body, /app\.js/, "the sign-in stub does not load the page");
  assert.equal((await http("/app.js")).status, 401);
  assert.equal((await rawWs({ Origin: base.replace(/\/$/, "") })).status, 401);
  assert.equal((await http("/auth", { method: "POST", headers: { Origin: base.replace(/\/$/, ""), "content-type": "application/json" }, body: JSON.stringify({ token: "0".repeat(32) }) })).status, 401);
  const p = await browser.context.newPage();
  const res = await p.goto(base);
  assert.equal(res.status(), 401);
  await p.waitForSelector("#login-status");
  assert.match(await p.textContent("#login-status"), /needs its token/);
  assert.equal(await p.$("#sessions"), null);
  await p.close();
});

test("with the token: signed in by an HttpOnly SameSite=Strict cookie, token gone from the address bar", opts, async () => {
  await page.goto(url);
  await page.waitForSelector("#sessions li[data-session=work]");
  assert.equal(page.url(), base, "the fragment with the token is removed");
  const c = (await browser.context.cookies()).find((x) => x.name === "pythond_web");
  assert.ok(c, "a session cookie");
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, "Strict");
  assert.notEqual(c.value, token, "the cookie is not the token");
  const csp = (await http("/", { headers: { Cookie: await cookieHeader() } })).headers["content-security-policy"];
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
});

test("typing x = 41 then x + 1 shows 42, and pysh run sees x", opts, async () => {
  await page.click("#sessions li[data-session=work]");
  await waitScreen(/^>>>/m);
  await page.click("#keyboard");
  await page.waitForSelector("#mode.writable");
  await page.click("#terminal");
  await typeLine("x = 41");
  await typeLine("x + 1");
  assert.match(await screenText(), /^42$/m);
  const r = await d.pysh("run", "work", "x");
  assert.equal(r.stdout.trim(), "41");
});

test("an agent cell appears in the side panel, its output on the screen and on click", opts, async () => {
  const r = await d.pysh("run", "work", "print('agent-' + 'said-hi')");
  assert.equal(r.stdout.trim(), "agent-said-hi");
  await waitScreen(/^agent-said-hi$/m);
  assert.match(await screenText(), /\[agent\] run: print\('agent-' \+ 'said-hi'\)/);
  const cell = page.locator("#cells li", { hasText: "print('agent-' + 'said-hi')" });
  await cell.waitFor();
  assert.match(await cell.textContent(), /ok\s*agent run/);
  await cell.click();
  await page.locator("#cell-output pre.output", { hasText: "agent-said-hi" }).waitFor();
});

test("read-only (the default) ignores keys", opts, async () => {
  const viewer = await browser.context.newPage();
  await viewer.goto(`${base}#session=work`); // opens the session without a click
  await waitScreen(/agent-said-hi/, viewer);
  assert.equal(await viewer.textContent("#mode"), "read-only");
  await viewer.click("#terminal");
  await viewer.keyboard.type("y_readonly = 5");
  await viewer.keyboard.press("Enter");
  // The same viewer then takes the keyboard: what it typed before never reached the session.
  await viewer.click("#keyboard");
  await viewer.waitForSelector("#mode.writable");
  await viewer.click("#terminal");
  await typeLine("'y_readonly' in dir()", viewer);
  assert.match(await screenText(viewer), /^False$/m);
  assert.doesNotMatch(await screenText(viewer), /y_readonly = 5/);
  await viewer.close();

  // The server enforces it too: keys sent on a read-only connection are dropped.
  const { ws, msgs } = await rawWs({ Origin: base.replace(/\/$/, ""), Cookie: await cookieHeader() });
  const until = async (f) => {
    for (let i = 0; i < 400 && !f(); i++) await sleep(25);
    assert.ok(f());
  };
  const text = () => Buffer.concat(msgs.filter((m) => m.binary).map((m) => m.binary)).toString();
  await until(() => msgs.some((m) => m.t === "ready"));
  ws.send(JSON.stringify({ t: "attach", session: "work" }));
  await until(() => msgs.some((m) => m.t === "attached"));
  ws.send(Buffer.from("z_readonly = 1\r"));
  ws.send(JSON.stringify({ t: "keyboard", on: true }));
  ws.send(Buffer.from("print('z' + str('z_readonly' in dir()))\r"));
  await until(() => /zFalse/.test(text()));
  ws.close();
});

test("resize reaches os.get_terminal_size()", opts, async () => {
  const was = await page.evaluate(() => window.pythondWeb.size());
  await page.setViewportSize({ width: 1000, height: 560 });
  await page.waitForFunction((w) => window.pythondWeb.size().cols !== w.cols && window.pythondWeb.size().rows !== w.rows, was);
  // The resize left when xterm resized; the keys below follow it on the same connection, in order.
  const { rows, cols } = await page.evaluate(() => window.pythondWeb.size());
  await page.click("#terminal");
  await typeLine("import os; tuple(os.get_terminal_size())");
  assert.match(await screenText(), new RegExp(`^\\(${cols}, ${rows}\\)$`, "m"));
});

test("the interrupt button stops a time.sleep(100)", opts, async () => {
  const fired = await d.pysh("fire", "work", "import time; time.sleep(100)");
  assert.equal(fired.code, 0, fired.stderr);
  const id = JSON.parse(fired.stdout).cell_id;
  await page.waitForSelector(`#cells li[data-cell="${id}"][data-state=running]`);
  await page.click("#interrupt");
  await page.waitForSelector(`#cells li[data-cell="${id}"][data-state=error]`, { timeout: 20_000 });
  await waitScreen(/KeyboardInterrupt/);
  await page.click(`#cells li[data-cell="${id}"]`);
  await page.locator("#cell-output pre", { hasText: "KeyboardInterrupt" }).first().waitFor();
});

test("the page switches between sessions: each shows its own screen", opts, async () => {
  assert.equal((await d.pysh("new", "other")).code, 0);
  await page.click("#sessions li[data-session=other]");
  await waitScreen(/pythond session 'other'/);
  assert.doesNotMatch(await screenText(), /agent-said-hi/, "the other session's screen only");
  assert.equal(await page.textContent("#title"), "session other");
  await page.click("#sessions li[data-session=work]");
  await waitScreen(/agent-said-hi/);
  assert.doesNotMatch(await screenText(), /pythond session 'other'/);
  await page.waitForSelector("#cells li[data-state=error]"); // work's cells again
});

test("a pyctl restart is survived: the page reconnects and resumes the screen, nothing doubled or lost", opts, async () => {
  await page.click("#terminal");
  await typeLine("print('before-' + 'restart')");
  const before = await screenText();
  const count = (text, s) => text.split(s).length - 1;
  assert.equal(count(before, "\nbefore-restart"), 1);
  const r = await d.pyctl("restart");
  assert.equal(r.code, 0, r.stderr);
  await page.waitForFunction(() => document.documentElement.dataset.attached === "resumed", null, { timeout: 30_000 });
  await page.waitForSelector("#conn.open");
  // Output made while the page was away arrives too (the resume asks for the bytes after its offset).
  await d.pysh("run", "work", "print('while-' + 'away')");
  await waitScreen(/^while-away$/m);
  await page.waitForSelector("#mode.writable"); // the keyboard stays with this page
  await page.click("#terminal");
  await typeLine("print('after-' + x.__class__.__name__)");
  const after = await screenText();
  assert.match(after, /^after-int$/m);
  const kept = before.slice(0, before.lastIndexOf("\n")); // all but the prompt line, which typing extends
  assert.ok(after.startsWith(kept), "the screen before the restart is kept as it was, not replayed over");
  assert.equal(count(after, "\nbefore-restart"), 1, "nothing doubled");
  assert.equal(count(after, "Python 3."), count(before, "Python 3."), "no second banner or replay");
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, "web.png") });
});

test("a restarted pyctl web (same port): the page is back by its cookie and resumes the screen", opts, async () => {
  const port = new URL(base).port;
  const before = await screenText();
  await page.evaluate(() => delete document.documentElement.dataset.attached);
  web.kill("SIGTERM");
  await new Promise((r) => web.once("exit", r));
  await page.waitForSelector("#conn.reconnecting");
  const started = await startWeb(d.env, ["--listen", `127.0.0.1:${port}`]);
  web = started.child;
  assert.equal(started.address, url, "the same address and token");
  await page.waitForFunction(() => document.documentElement.dataset.attached === "resumed", null, { timeout: 30_000 });
  await d.pysh("run", "work", "print('web-' + 'back')");
  await waitScreen(/^web-back$/m);
  const after = await screenText();
  assert.ok(after.startsWith(before.slice(0, before.lastIndexOf("\n"))), "the screen is kept, not replayed over");
  assert.equal(after.split("\nbefore-restart").length, before.split("\nbefore-restart").length, "nothing doubled");
});

test("a WebSocket from another Origin is refused (also from a real page on another port)", opts, async () => {
  const cookie = await cookieHeader();
  assert.equal((await rawWs({ Origin: "http://evil.example", Cookie: cookie })).status, 403);
  assert.equal((await rawWs({ Cookie: cookie })).status, 403, "no Origin at all");
  const port = new URL(base).port;
  const other = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<script>
      const ws = new WebSocket("ws://127.0.0.1:${port}/ws");
      ws.onopen = () => (document.title = "opened");
      ws.onclose = () => (document.title = document.title || "refused");
    </script>`);
  });
  await new Promise((r) => other.listen(0, "127.0.0.1", r));
  const p = await browser.context.newPage();
  await p.goto(`http://127.0.0.1:${other.address().port}/`);
  await p.waitForFunction(() => document.title !== "", null, { timeout: 10_000 });
  assert.equal(await p.title(), "refused");
  await p.close();
  other.close();
});

test("a request or WebSocket naming another Host is refused (DNS rebinding)", opts, async () => {
  const cookie = await cookieHeader();
  const port = new URL(base).port;
  const r = await http("/", { headers: { Host: `evil.example:${port}`, Cookie: cookie } });
  assert.equal(r.status, 403);
  assert.match(r.body, /DNS-rebinding/);
  assert.equal((await http("/app.js", { headers: { Host: `evil.example:${port}`, Cookie: cookie } })).status, 403);
  assert.equal((await rawWs({ Host: `evil.example:${port}`, Origin: `http://evil.example:${port}`, Cookie: cookie })).status, 403);
  assert.equal((await http("/", { headers: { Host: `localhost:${port}`, Cookie: cookie } })).status, 200, "localhost is this server too");
});

test("garbage is refused: sign-in bodies, page messages, --listen", opts, async () => {
  const origin = base.replace(/\/$/, "");
  for (const body of ["", "token=abc", "{", JSON.stringify({ token: token.toUpperCase() }), JSON.stringify({ token, more: 1 }), JSON.stringify([token])]) {
    const r = await http("/auth", { method: "POST", headers: { Origin: origin, "content-type": "application/json" }, body });
    assert.equal(r.status, 400, `body ${JSON.stringify(body)}`);
  }
  const big = await http("/auth", { method: "POST", headers: { Origin: origin }, body: "x".repeat(100_000) }).catch((e) => ({ status: e.code }));
  assert.ok(big.status === 400 || big.status === "ECONNRESET" || big.status === "EPIPE", `oversized body: ${big.status}`);
  assert.equal((await http("/auth", { method: "POST", headers: { Origin: "http://evil.example" }, body: JSON.stringify({ token }) })).status, 403);
  assert.equal((await http("/nope", { headers: { Cookie: await cookieHeader() } })).status, 404);
  assert.equal((await http("/", { method: "DELETE" })).status, 405);

  const { ws, msgs } = await rawWs({ Origin: origin, Cookie: await cookieHeader() });
  ws.send("not json");
  ws.send(JSON.stringify([1, 2]));
  ws.send(JSON.stringify({ t: "attach", session: "../../etc" }));
  ws.send(JSON.stringify({ t: "resize", rows: -1, cols: "x" }));
  ws.send(JSON.stringify({ t: "ping" }));
  for (let i = 0; i < 400 && !msgs.some((m) => m.t === "pong"); i++) await sleep(25);
  assert.ok(msgs.some((m) => m.t === "pong"), "the connection still answers");
  assert.ok(msgs.filter((m) => m.t === "warning" || m.t === "error").length >= 4, JSON.stringify(msgs));
  ws.close();

  let r = await d.pyctl("web", "--listen", "nonsense");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /HOST:PORT/);
  r = await d.pyctl("web", "--listen", "0.0.0.0:0");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a loopback address.*--tls/s);
});

test("the token never appears in access.log (which logs the page's requests)", opts, async () => {
  await sleep(100); // the log is written in batches, at most 20 ms after the event
  const log = readFileSync(join(d.run, "pythond", "access.log"), "utf8");
  assert.ok(/event=web-request .*cmd=POST status=204 detail=\/auth/.test(log), "the sign-in is logged");
  assert.ok(/event=web-connect/.test(log), "the page's WebSocket is logged");
  assert.ok(!log.includes(token), "no token in access.log");
  assert.ok(!log.includes((await cookieHeader()).split("=")[1]), "no cookie in access.log");
  assert.ok(!webErr.includes(token) && !d.daemon.stderrText().includes(token), "nor on any stderr");
});
