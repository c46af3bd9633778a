// pyctl web --tls: the page over HTTPS with the certificate in ~/.pythond/tls/ (here a
// throwaway self-signed one made by openssl), in the real browser; a Secure cookie; a
// clear error when the pair is missing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { TestDaemon, BIN } from "./helpers/daemon.mjs";
import { launchBrowser, noBrowser } from "./helpers/browser.mjs";

const opts = { skip: noBrowser };
let d, web, url, browser;

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
  const missing = await d.pyctl("web", "--listen", "127.0.0.1:0", "--tls");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--tls needs the certificate at .*\.pythond\/tls\/cert\.pem/);
  const dir = join(d.home, ".pythond", "tls");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
  ({ child: web, address: url } = await startWeb(d.env, ["--listen", "127.0.0.1:0", "--tls"]));
  browser = await launchBrowser({ extraArgs: ["--ignore-certificate-errors"] });
});

after(async () => {
  await browser?.close();
  web?.kill("SIGTERM");
  await d?.cleanup();
});

test("the missing certificate is named; with it the address is https and the cookie Secure", opts, async () => {
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{32}$/);
  const [base, token] = url.split("#token=");
  const res = await new Promise((resolve, reject) => {
    const body = JSON.stringify({ token });
    const req = request(new URL("/auth", base), { method: "POST", rejectUnauthorized: false, headers: { Origin: base.replace(/\/$/, ""), "content-type": "application/json" } }, (r) => {
      r.resume();
      r.on("end", () => resolve(r));
    });
    req.on("error", reject);
    req.end(body);
  });
  assert.equal(res.statusCode, 204);
  assert.match(res.headers["set-cookie"][0], /; Secure/);
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
