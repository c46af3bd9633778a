// The agent checks the daemon's proof of the session secret with its own HMAC-SHA256 over the
// interpreter's built-in SHA-256 (agent/pythond_agent/macs.py), not hashlib/hmac, which load
// OpenSSL into every session (~3.7 MiB of its idle RSS, issue 16). It must equal hmac's result
// for every key length, on every Python we support, and import no OpenSSL module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers/daemon.mjs";

const CHECK = `
import os, sys
from pythond_agent.macs import compare_digest, hmac_sha256_hex
assert "_hashlib" not in sys.modules and "hashlib" not in sys.modules, "macs imported OpenSSL"
import hashlib, hmac
for n in (0, 1, 16, 32, 63, 64, 65, 200):
    for m in (b"", b"abc", os.urandom(100), os.urandom(5000)):
        k = os.urandom(n)
        assert hmac_sha256_hex(k, m) == hmac.new(k, m, hashlib.sha256).hexdigest(), (n, len(m))
assert compare_digest("ab", "ab") and not compare_digest("ab", "ac")
print("ok")
`;

const pythons = ["python3", "/usr/bin/python3", ...["3.9.18", "3.12.1", "3.13.0"].map((v) => `/root/.pyenv/versions/${v}/bin/python3`).filter(existsSync)];

for (const python of pythons) {
  test(`HMAC-SHA256 of macs.py equals hmac's, without OpenSSL (${python})`, () => {
    const r = spawnSync(python, ["-c", CHECK], { env: { ...process.env, PYTHONPATH: join(ROOT, "agent") }, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "ok\n");
  });
}
