// The stdlib-only Python package (python/): the seed's Complete Example verbatim, and rmote rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { PYTHON, root } from "./helpers/tools-env.mjs";

const run = promisify(execFile);
const env = { ...process.env, PYTHONPATH: join(root, "python") };

test("PYTHONPATH=python python3 example.py runs the seed's Complete Example verbatim", async () => {
  const { stdout } = await run(PYTHON, [join(root, "test", "fixtures", "seed_example.py")], { env, timeout: 30_000 });
  assert.match(stdout, /^\S+: \d+ GB free on \/$/m);
});

test("python client: subclass dispatch, caller's dataclass/enum, original exceptions, inline tools", async () => {
  const { stdout } = await run(PYTHON, [join(root, "test", "fixtures", "python_client_checks.py")], { env, timeout: 30_000 });
  assert.match(stdout, /ALL OK/);
});
