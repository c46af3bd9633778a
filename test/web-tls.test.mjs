// pyctl web --tls: the page over HTTPS with this machine's certificate (~/.pythond/tls/, made
// on first use as pyctl cert makes it), in the real browser; a Secure cookie; a clear error
// naming the fix when the pair is broken.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { request } from "node:https";
import { join } from "node:path";
import { TestDaemon, BIN } from "./helpers/daemon.mjs";
import { launchBrowser, noBrowser } from "./helpers/browser.mjs";

const opts = { skip: noBrowser };
let d, web, url, browser, broken;

function startWeb(env, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN("pyctl"), "web", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => {
      out += c;
      if (out.includes("\n")) resolve({ child, address: out.split("\n")[0] });
    });
    child.stderr.on("data", (c) => (err += c));
    child.once("exit", (code) => reject(new Error(`pyctl web exited (${code}): ${err}`)));
  });
}

before(async () => {
  if (noBrowser) return;
  d = new TestDaemon();
  await d.start();
  assert.equal((await d.pysh("new", "secure")).code, 0);
  const dir = join(d.home, ".pythond", "tls");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, "cert.pem"), "not a certificate\n");
  broken = await d.pyctl("web", "--listen", "127.0.0.1:0", "--tls");
  rmSync(join(dir, "cert.pem"));
  ({ child: web, address: url } = await startWeb(d.env, ["--listen", "127.0.0.1:0", "--tls"]));
  browser = await launchBrowser({ extraArgs: ["--ignore-certificate-errors"] });
});

after(async () => {
  await browser?.close();
  web?.kill("SIGTERM");
  await d?.cleanup();
});

test("a broken pair is named with its fix; without one it is made as pyctl cert makes it; https and a Secure cookie", opts, async () => {
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /^ERR --tls: .*key\.pem is missing -- .*pyctl cert --new/m);
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{32}$/);
  const shown = JSON.parse((await d.pyctl("cert", "--json")).stdout);
  assert.equal(shown.created, false, "pyctl web made it");
  const [base, token] = url.split("#token=");
  let served;
  const res = await new Promise((resolve, reject) => {
    const body = JSON.stringify({ token });
    const req = request(new URL("/auth", base), { method: "POST", rejectUnauthorized: false, headers: { Origin: base.replace(/\/$/, ""), "content-type": "application/json" } }, (r) => {
      served = r.socket.getPeerCertificate().fingerprint256;
      r.resume();
      r.on("end", () => resolve(r));
    });
    req.on("error", reject);
    req.end(body);
  });
  assert.equal(res.statusCode, 204);
  assert.match(res.headers["set-cookie"][0], /; Secure/);
  assert.equal(served, new X509Certificate(readFileSync(shown.cert)).fingerprint256, "it serves this machine's certificate");
});

test("the page works over HTTPS and a wss:// WebSocket", opts, async () => {
  const page = await browser.context.newPage();
  await page.goto(url);
  await page.click("#sessions li[data-session=secure]");
  await page.waitForFunction(() => /^>>>/m.test(window.pythondWeb.screenText()), null, { timeout: 20_000 });
  await page.click("#keyboard");
  await page.waitForSelector("#mode.writable");
  await page.click("#terminal");
  await page.keyboard.type("6 * 7");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /^42$/m.test(window.pythondWeb.screenText()), null, { timeout: 20_000 });
  await page.close();
});
