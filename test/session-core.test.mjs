// Sessions end to end through the real pysh: state, display rules, errors and exit codes,
// capture of fd-level output, stdio poisoning, code sources, large output.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { TestDaemon } from "./helpers/daemon.mjs";

const d = new TestDaemon();
before(async () => {
  await d.start();
  const r = await d.pysh("new", "work");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^OK work pid=\d+\n$/);
});
after(() => d.cleanup());

const run = (...code) => d.pysh("run", "work", ...code);

test("state persists between runs", async () => {
  assert.equal((await run("x = 42")).stdout, "");
  const r = await run("x + 1");
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "43\n");
});

test("display rules follow pythond 0.4", async () => {
  assert.equal((await run("1 + 1")).stdout, "2\n");
  assert.equal((await run("'hello'")).stdout, "hello\n", "a str shows raw");
  assert.equal((await run("b'hi'")).stdout, "b'hi'\n", "other values show as repr");
  assert.equal((await run("None")).stdout, "");
  assert.equal((await run("y = 1")).stdout, "");
  assert.equal((await run("if True:\n  5")).stdout, "", "a compound last statement shows nothing");
  assert.equal((await run("print('a'); 'b'")).stdout, "a\nb\n");
  assert.equal((await run("print('x\\n\\n\\n')")).stdout, "x\n", "trailing newlines are stripped to one");
  assert.equal((await run("__name__")).stdout, "__main__\n");
  // One-line cells take a faster compile path; the rules must not change there.
  assert.equal((await run("1; 2")).stdout, "2\n", "only the last expression shows");
  assert.equal((await run("for i in range(3): i")).stdout, "", "nor does an expression inside a loop");
  assert.equal((await run("if True: 7")).stdout, "");
  assert.equal((await run("(z := 3)")).stdout, "3\n");
  assert.equal((await run("import asyncio; await asyncio.sleep(0, 'awaited')")).stdout, "awaited\n");
  assert.equal((await run("await __import__('asyncio').sleep(0, 'one line')")).stdout, "one line\n");
  assert.equal((await run("x = =")).code, 1, "a one-line syntax error is still an error");
});

test("a cell run again shows its value again and names itself in tracebacks", async () => {
  for (let i = 0; i < 3; i++) assert.equal((await run("len('abc')")).stdout, "3\n");
  const first = await run("1/0");
  const again = await run("1/0");
  const cellOf = (r) => /File "<cell-(\d+)>", line 1/.exec(r.stderr)?.[1];
  assert.ok(cellOf(first) && cellOf(again), again.stderr);
  assert.notEqual(cellOf(first), cellOf(again), "each run names its own cell");
});

test("an exception exits 1 with a traceback of user frames only", async () => {
  const r = await run("def f():\n    return 1/0\nf()");
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /Traceback \(most recent call last\):\n  File "<cell-\d+>", line 3, in <module>\n/);
  assert.match(r.stderr, /line 2, in f\n    return 1\/0/);
  assert.match(r.stderr, /ZeroDivisionError: division by zero\n$/);
  assert.doesNotMatch(r.stderr, /pythond-agent|executor\.py|session\.py/);
});

test("a syntax error reads as in plain Python", async () => {
  const r = await run("x = = 1");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^  File "<cell-\d+>", line 1\n    x = = 1\n\s+\^\nSyntaxError: invalid syntax\n$/);
});

test("exit() fails the cell as exit(N) and the session lives on", async () => {
  let r = await run("exit()");
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "exit(0)\n");
  r = await run("raise SystemExit(42)");
  assert.equal(r.stderr, "exit(42)\n");
  r = await run("import sys; sys.exit('bye')");
  assert.equal(r.stderr, "exit(bye)\n");
  r = await run("quit(3)");
  assert.equal(r.stderr, "exit(3)\n");
  r = await run("import sys; sys.stdin.closed, x");
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "(False, 42)\n", "stdin stays open and the namespace survives");
});

test("output that starts with ERR is still output", async () => {
  const r = await run("print('ERR not an error')");
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "ERR not an error\n");
});

test("fd-level output of os.write, os.system and children is captured in order", async () => {
  const r = await run(
    "import os, subprocess, sys\n" +
      "print('one', flush=True)\n" +
      "os.write(1, b'two\\n')\n" +
      "os.system('echo three')\n" +
      "subprocess.run(['sh', '-c', 'echo four; echo err-four >&2'])\n" +
      "sys.stderr.write('five\\n')\n" +
      "print('six')",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "one\ntwo\nthree\nfour\nsix\n");
  assert.equal(r.stderr, "err-four\nfive\n");
});

test("nothing a cell writes can corrupt the session's link", async () => {
  const r = await run(
    "import os, sys, threading, subprocess\n" +
      "os.write(1, b'\\x00\\x00\\x00\\x10garbage-frame')\n" +
      "os.write(2, b'\\xff\\xfe not utf8\\n')\n" +
      "sys.__stdout__.write('dunder\\n')\n" +
      "ts = [threading.Thread(target=lambda: [os.write(1, b'\\x00' * 64) for _ in range(50)]) for _ in range(5)]\n" +
      "[t.start() for t in ts]; [t.join() for t in ts]\n" +
      "subprocess.Popen(['sh', '-c', 'printf \"\\\\000\\\\001junk\"']).wait()\n" +
      "'survived'",
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /dunder\n/);
  assert.match(r.stdout, /survived\n$/);
  assert.equal((await run("40 + 2")).stdout, "42\n", "the next cell works normally");
});

test("code is taken verbatim: whitespace, -- lookalikes, several arguments, -f FILE, stdin", async () => {
  assert.equal((await run("print('a   b')")).stdout, "a   b\n");
  assert.equal((await run("--1")).stdout, "1\n", "--1 after the session name is code");
  assert.equal((await run("p = 5", "p * 2")).stdout, "10\n", "arguments are joined by newlines");
  const file = join(d.dir, "task.py");
  writeFileSync(file, "q = [i * i for i in range(4)]\nq\n");
  assert.equal((await d.pysh("run", "work", "-f", file)).stdout, "[0, 1, 4, 9]\n");
  assert.equal((await d.pyshIn("q[-1] + 1\n", "run", "work", "-")).stdout, "10\n");
  const missing = await d.pysh("run", "work", "-f", join(d.dir, "nope.py"));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^ERR cannot read .*nope\.py: ENOENT\n$/);
});

test("usage errors exit 2 and --help helps", async () => {
  const r = await d.pysh("run", "work");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^ERR usage: /);
  assert.equal((await d.pysh("frobnicate")).code, 2);
  const h = await d.pysh("run", "--help");
  assert.equal(h.code, 0);
  assert.match(h.stdout, /usage: pysh run/);
  for (const verb of ["new", "fire", "poll", "ls", "status", "vars", "complete", "int", "kill", "cells"]) {
    const v = await d.pysh(verb, "--help");
    assert.equal(v.code, 0, verb);
    assert.match(v.stdout, new RegExp(`usage: pysh ${verb}`));
  }
});

test("a 5 MB print arrives intact", async () => {
  const r = await run("import hashlib\ns = ''.join(chr(97 + i % 26) for i in range(5_000_000))\nprint(s)");
  assert.equal(r.code, 0);
  const expected = Array.from({ length: 5_000_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("") + "\n";
  assert.equal(r.stdout.length, expected.length);
  assert.equal(createHash("sha256").update(r.stdout).digest("hex"), createHash("sha256").update(expected).digest("hex"));
});

test("--json gives a structured result", async () => {
  const ok = await d.pysh("run", "--json", "work", "print('out'); 7");
  assert.equal(ok.code, 0);
  const lines = ok.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const j = lines.at(-1);
  assert.deepEqual(lines.slice(0, -1).map((l) => l.stream).filter(Boolean), lines.slice(0, -1).map(() => "stdout"));
  assert.equal(j.ok, true);
  assert.equal(j.value, "7");
  assert.equal(j.stdout, "out\n7\n");
  assert.equal(j.error, null);
  assert.equal(typeof j.duration, "number");
  assert.match(j.cell_id, /^[0-9a-f]{12}$/);
  const bad = await d.pysh("run", "--json", "work", "raise KeyError('k')");
  assert.equal(bad.code, 1);
  const e = JSON.parse(bad.stdout.trim().split("\n").at(-1));
  assert.equal(e.ok, false);
  assert.equal(e.error.type, "KeyError");
  assert.equal(e.error.message, "'k'");
  assert.match(e.error.traceback, /KeyError: 'k'/);
});

test("vars, status and complete answer from the live namespace", async () => {
  await run("alpha_value = 1\nalpha_other = 2");
  const v = JSON.parse((await d.pysh("vars", "work")).stdout);
  assert.ok(v.vars.includes("alpha_value"));
  assert.ok(v.vars.includes("subprocess"), "0.4's pre-imported modules are listed");
  const c = await d.pysh("complete", "work", "alpha_");
  assert.equal(c.stdout, '{"matches": ["alpha_value", "alpha_other"]}\n');
  const s = await d.pysh("status", "work");
  assert.match(s.stdout, /^\{"state": "idle", "running": \[\], "vars": \d+, "cells": \d+/);
  const missing = await d.pysh("status", "nosuch");
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, "ERR no session 'nosuch' -- create it first with: pysh new nosuch\n");
});

test("lazily pre-imported modules behave like the real ones", async () => {
  const r = await run(
    "import types\n" +
      "(subprocess.run(['true']).returncode, hashlib.sha256(b'').hexdigest()[:8],\n" +
      " isinstance(sqlite3, types.ModuleType), sqlite3.connect(':memory:').execute('select 6*7').fetchone(),\n" +
      " json.loads(json.dumps({'a': [1]})))",
  );
  assert.equal(r.stdout, "(0, 'e3b0c442', True, (42,), {'a': [1]})\n");
  assert.equal((await run("import subprocess as sp; sp is subprocess")).stdout, "True\n");
});
