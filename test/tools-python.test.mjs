// The stdlib-only Python package (python/): the seed's Complete Example verbatim, and rmote rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { PYTHON, root, tempDir } from "./helpers/tools-env.mjs";

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

// Issue 9 item 16: a script with top-level code and no __main__ guard. The fixture records each
// run of its top-level code in a file and exits if it runs twice (as it did remotely when the
// whole script travelled).
test("an inline tool in an unguarded script: only the class and what it uses travel", async (t) => {
  const mark = join(tempDir(t), "runs");
  const { stdout, stderr } = await run(PYTHON, [join(root, "test", "fixtures", "inline_unguarded.py")], {
    env: { ...env, PYTHOND_TEST_MARK: mark },
    timeout: 60_000,
  });
  assert.equal(stderr, "", "from_subprocess of a -qui started with stderr=PIPE: no prompt reaches the caller");
  assert.equal(readFileSync(mark, "utf8").trim().split("\n").length, 1, "top-level code ran once, locally");
  assert.match(stdout, /^greet __main__ Report True HELLO WORLD!HELLO WORLD!$/m); // constants, helper, logger, caller's dataclass
  assert.match(stdout, /^who Greeter:greeter Base:base$/m); // a base class from the same script
  assert.match(stdout, /^lock True$/m); // a top-level assignment travels as its statement
  assert.match(stdout, /^scaled 42$/m); // a closure variable travels by value
  const failLine = readFileSync(join(root, "test", "fixtures", "inline_unguarded.py"), "utf8").split("\n").findIndex((l) => l.includes('{}["missing"]')) + 1;
  assert.match(stdout, new RegExp(`^traceback File ".*inline_unguarded\\.py", line ${failLine}, in fail$`, "m"));
  assert.match(stdout, /^refused tool make_unsendable\.<locals>\.Holds uses 'conn' \(a lock\), which cannot travel/m);
  assert.match(stdout, /^done$/m);
});

// Issue 9 item 17: stream() with the TypeScript SDK's credit flow control.
test("python package: stream() over async generators, credit flow control, early close", async (t) => {
  const mark = join(tempDir(t), "finally");
  const { stdout, stderr } = await run(PYTHON, [join(root, "test", "fixtures", "python_stream_checks.py")], {
    env: { ...env, PYTHOND_TEST_MARK: mark },
    timeout: 60_000,
  });
  assert.match(stdout, /STREAM OK/);
  assert.equal(stderr, "");
});

test("the TOOLS.md Python example runs as written and leaves nothing on the caller's stderr", async (t) => {
  const doc = readFileSync(join(root, "docs", "TOOLS.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Python package"));
  const code = /```python\n([\s\S]*?)```/.exec(section)[1];
  const file = join(tempDir(t), "example.py");
  writeFileSync(file, code);
  const { stdout, stderr } = await run(PYTHON, [file], { env, timeout: 60_000 });
  assert.match(stdout, /^\d+ GiB free on \/\n3\n2\n1\n$/);
  assert.equal(stderr, "");
});
