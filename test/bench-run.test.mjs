// `npm run bench` runs the benches (bench/run.mjs), each under a deadline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { root } from "./helpers/tools-env.mjs";

const npm = (args) =>
  promisify(execFile)("npm", ["run", "--silent", "bench", "--", ...args], { cwd: root, timeout: 120_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

test("npm run bench -- --help names every bench; bad input exits 2", async () => {
  const help = await npm(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /names: tools, async, session, session-start, attach-echo, scaling, startup, burst, files, round-trips/);
  const bad = await npm(["no-such-bench"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no bench named no-such-bench/);
  assert.equal((await npm(["--timeout", "0"])).code, 2);
});

test("npm run bench stops a bench at its deadline and says so", async () => {
  const r = await npm(["--timeout", "1", "tools"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /## tools: node bench\/tools-bench\.mjs --quick/);
  assert.match(r.stdout, /\| tools \| stopped after 1 s \| \d+\.\d \|/);
});
