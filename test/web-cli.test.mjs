// pyctl web without a browser: its token is the daemon's (~/.pythond/token), made once with 32
// hex digits, 0600 in a 0700 dir, the same on every start; a file that is garbage, open to others
// or a symlink is refused with a clear error before anything listens; so is a garbage --listen;
// pyctl token --rotate signs browsers out.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "node:http";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeEnv, cli, BIN } from "./helpers/daemon.mjs";

const envs = [];
after(() => {
  for (const e of envs) rmSync(e.dir, { recursive: true, force: true });
});

function env() {
  const e = makeEnv();
  envs.push(e);
  mkdirSync(join(e.home, ".pythond"), { recursive: true, mode: 0o700 });
  chmodSync(join(e.home, ".pythond"), 0o700);
  return e;
}

test("a bad token file is refused, naming the file and the fix", async () => {
  const cases = [
    ["garbage", (f) => writeFileSync(f, "not a token\n", { mode: 0o600 }), /does not hold a token .*pyctl token --rotate/],
    ["open to others", (f) => writeFileSync(f, "0".repeat(32) + "\n", { mode: 0o644 }), /mode 644 lets others read it/],
    ["a symlink", (f) => (writeFileSync(f + ".real", "0".repeat(32), { mode: 0o600 }), symlinkSync(f + ".real", f)), /symlink/],
  ];
  for (const [what, make, message] of cases) {
    const e = env();
    const file = join(e.home, ".pythond", "token");
    make(file);
    chmodSync(file, statSync(file).mode & 0o777); // writeFileSync's mode passes the umask
    const r = await cli(e.env, "pyctl", ["web", "--listen", "127.0.0.1:0"]);
    assert.equal(r.code, 1, what);
    assert.match(r.stderr, message, what);
    assert.match(r.stderr, /\.pythond\/token/, what);
  }
});

/** pyctl web on a free port: {child, printed} once it printed its --json line. */
function startWeb(e) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN("pyctl"), "web", "--listen", "127.0.0.1:0", "--json"], { env: e.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      if (out.includes("\n")) resolve({ child, printed: JSON.parse(out) });
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`pyctl web exited ${code}`)));
  });
}

function stopWeb(child) {
  return new Promise((resolve) => {
    child.removeAllListeners("exit");
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

test("the token is the daemon's: made once, 32 hex digits, 0600 in a 0700 dir, and kept across starts", async () => {
  const e = env();
  e.env.PYTHOND_NO_AUTOSTART = "0"; // pyctl web starts the daemon as pysh would
  const start = async () => {
    const { child, printed } = await startWeb(e);
    return { printed, code: await stopWeb(child) };
  };
  try {
    const first = await start();
    assert.equal(first.code, 0, "SIGTERM stops it cleanly");
    assert.equal(existsSync(join(e.home, ".pythond", "web", "token")), false, "no token of its own");
    const file = join(e.home, ".pythond", "token");
    const token = readFileSync(file, "utf8").trim();
    assert.match(token, /^[0-9a-f]{32}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(first.printed.url, `${first.printed.listen}#token=${token}`);
    const second = await start();
    assert.ok(second.printed.url.endsWith(`#token=${token}`), "the same token on the next start");
    assert.equal((await cli(e.env, "pyctl", ["token"])).stdout.trim(), token, "the one pyctl token prints");
  } finally {
    await cli(e.env, "pyctl", ["stop"]).catch(() => {});
  }
});

test("garbage --listen is a usage error (exit 2) naming the form", async () => {
  const e = env();
  for (const bad of ["", "127.0.0.1", ":8765", "127.0.0.1:99999", "127.0.0.1:-1", "my host:80", "[::1", "[127.0.0.1]:80", "example.com:80", "127.0.0.1:80:80", "x".repeat(5000)]) {
    const r = await cli(e.env, "pyctl", ["web", "--listen", bad]);
    assert.equal(r.code, 2, JSON.stringify(bad.slice(0, 40)));
    assert.match(r.stderr, /^ERR usage: --listen/, JSON.stringify(bad.slice(0, 40)));
  }
  const r = await cli(e.env, "pyctl", ["web", "--bogus"]);
  assert.equal(r.code, 2);
  const help = await cli(e.env, "pyctl", ["web", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Take the keyboard/);
});

test("--json errors are JSON: usage (exit 2) and an off-loopback address without --tls (exit 1)", async () => {
  const e = env();
  const usage = await cli(e.env, "pyctl", ["web", "--json", "--listen", "nonsense"]);
  assert.equal(usage.code, 2);
  assert.equal(JSON.parse(usage.stdout).error.type, "usage");
  const plain = await cli(e.env, "pyctl", ["web", "--listen", "0.0.0.0:0", "--json"]);
  assert.equal(plain.code, 1);
  const err = JSON.parse(plain.stdout).error;
  assert.equal(err.type, "needs_tls");
  assert.match(err.message, /needs TLS/);
});

/** A request to the page's server: {status, cookie}. */
function http(base, path, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, cookie: (res.headers["set-cookie"] ?? [])[0]?.split(";")[0] }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

test("pyctl token --rotate signs browsers out: the old cookie and the old token are refused, the new token signs in", async () => {
  const e = env();
  e.env.PYTHOND_NO_AUTOSTART = "0";
  const { child, printed } = await startWeb(e);
  try {
    const [base, old] = printed.url.split("#token=");
    const origin = base.replace(/\/$/, "");
    const signIn = (token) => http(base, "/auth", { method: "POST", headers: { Origin: origin, "content-type": "application/json" }, body: JSON.stringify({ token }) });
    const first = await signIn(old);
    assert.equal(first.status, 204);
    assert.equal((await http(base, "/", { headers: { cookie: first.cookie } })).status, 200, "signed in");
    const rotated = await cli(e.env, "pyctl", ["token", "--rotate"]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = rotated.stdout.trim();
    assert.equal((await http(base, "/", { headers: { cookie: first.cookie } })).status, 401, "the old cookie is signed out");
    assert.equal((await signIn(old)).status, 401, "the old token is refused");
    const again = await signIn(fresh);
    assert.equal(again.status, 204);
    assert.notEqual(again.cookie, first.cookie);
    assert.equal((await http(base, "/", { headers: { cookie: again.cookie } })).status, 200);
  } finally {
    await stopWeb(child);
    await cli(e.env, "pyctl", ["stop"]).catch(() => {});
  }
});
