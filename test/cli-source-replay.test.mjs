// Source as Python reads it, and a replay that says what it did (issue 9, item 12):
// `-f FILE` and stdin honour a PEP 263 coding line and a UTF-8 BOM; `restart --replay` runs
// history.py cell by cell, skips terminal-only cells and says so, names the cell it stopped
// at, and marks output beyond its cap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, appendFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { startedDaemon } from "./helpers/daemon.mjs";

const daemon = (t) => startedDaemon(t, "s");

test("-f FILE and stdin are decoded as Python decodes source", async (t) => {
  const d = await daemon(t);
  const latin1 = join(d.dir, "latin1.py");
  writeFileSync(latin1, Buffer.concat([Buffer.from("# -*- coding: latin-1 -*-\nword = '"), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from("'\nprint(word, len(word))\n")]));
  const r1 = await d.pysh("run", "s", "-f", latin1);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(r1.stdout, "café 4\n");
  // The coding line may be the second line, after a shebang.
  const second = join(d.dir, "second.py");
  writeFileSync(second, Buffer.concat([Buffer.from("#!/usr/bin/env python3\n# vim: set fileencoding=iso-8859-15 :\nprint('"), Buffer.from([0xa4]), Buffer.from("')\n")]));
  assert.equal((await d.pysh("run", "s", "-f", second)).stdout, "€\n");
  const bom = join(d.dir, "bom.py");
  writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("x = 'ünï'\nprint(x, len(x))\n")]));
  const r2 = await d.pysh("run", "s", "-f", bom);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.stdout, "ünï 3\n");
  const r3 = await d.pyshIn(Buffer.concat([Buffer.from("# coding=latin-1\nprint('"), Buffer.from([0xe9]), Buffer.from("')\n")]), "run", "s", "-");
  assert.equal(r3.stdout, "é\n");
  // Not UTF-8 and no coding line: an error naming the line, as Python's SyntaxError would.
  const bad = join(d.dir, "bad.py");
  writeFileSync(bad, Buffer.concat([Buffer.from("x = 1\ny = '"), Buffer.from([0xe9]), Buffer.from("'\n")]));
  const r4 = await d.pysh("run", "s", "-f", bad);
  assert.equal(r4.code, 1);
  assert.match(r4.stderr, /^ERR .*bad\.py: not valid UTF-8 \(line 2\); declare its encoding/);
  const unknown = join(d.dir, "unknown.py");
  writeFileSync(unknown, "# coding: klingon\nprint(1)\n");
  assert.match((await d.pysh("run", "s", "-f", unknown)).stderr, /unknown encoding: klingon/);
});

test("restart --replay runs cell by cell, skips terminal-only cells, and stops saying where", async (t) => {
  const d = await daemon(t);
  const marker = join(d.dir, "marker");
  writeFileSync(marker, "");
  for (const code of ["a = 1", `import os; os.remove(${JSON.stringify(marker)})`, "b = a + 1"]) {
    const r = await d.pysh("run", "s", code);
    assert.equal(r.code, 0, r.stderr);
  }
  // What a person typed at the prompt is recorded too; input() made sense only there.
  const history = join(d.home, ".pythond/sessions/s/history.py");
  assert.ok(existsSync(history));
  appendFileSync(history, "\n# [2026-01-01 00:00:00]\nname = input('name? ')\n\n# [2026-01-01 00:00:01]\nc = b + 1\n");
  // The marker is gone now, so the second cell fails when replayed.
  const r = await d.pysh("restart", "s", "--replay");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /pysh: replay skipped cell 4 \(input\(\) reads the keyboard\): name = input\('name\? '\)\n/);
  assert.match(r.stderr, /pysh: replay stopped at cell 2 of 5 \(import os; os\.remove\(.*\)\): FileNotFoundError: .*; 2 later cell\(s\) not replayed\n/);
  assert.match(r.stdout, /^OK s pid=\d+ replay failed \(1 of 5 cells replayed, 1 skipped\)\n$/);
  const j = JSON.parse((await d.pysh("restart", "s", "--replay", "--json")).stdout);
  assert.deepEqual([j.replayed, j.ok, j.cells, j.ran, j.failed.cell, j.failed.not_replayed, j.skipped.length], [true, false, 5, 2, 2, 2, 1]);
  assert.equal((await d.pysh("run", "s", "a, 'b' in dir()")).stdout, "(1, False)\n"); // a 6th cell in history.py

  writeFileSync(marker, "");
  const ok = await d.pysh("restart", "s", "--replay");
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^OK s pid=\d+ replayed 5 of 6 cells, 1 skipped\n$/);
  assert.equal((await d.pysh("run", "s", "a, b, c")).stdout, "(1, 2, 3)\n");
});

test("replay output over its cap ends with a visible marker", async (t) => {
  const d = await daemon(t);
  assert.equal((await d.pysh("run", "s", "print('x' * 100000)")).code, 0);
  const r = await d.pysh("restart", "s", "--replay");
  assert.equal(r.code, 0, r.stderr);
  const m = /\[pythond: (\d+) more bytes of replay output not shown\]\n$/.exec(r.stderr);
  assert.ok(m, r.stderr.slice(-300));
  assert.equal(Number(m[1]), 100001 - 64 * 1024);
  assert.equal(r.stderr.indexOf("x".repeat(64 * 1024)), 0);
});

test("a history.py of garbage replays as far as it can and says where it stopped", async (t) => {
  const d = await daemon(t);
  assert.equal((await d.pysh("run", "s", "a = 1")).code, 0);
  const history = join(d.home, ".pythond/sessions/s/history.py");
  appendFileSync(history, Buffer.from([0x0a, 0x23, 0x20, 0x5b, 0xff, 0xfe, 0x00, 0x01, 0x5d, 0x0a, 0x29, 0x28, 0x0a, 0xc3, 0x28]));
  const r = await d.pysh("restart", "s", "--replay");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /pysh: replay stopped at cell 1 of 1 \(a = 1\n?.*\): SyntaxError: /);
  assert.match(r.stdout, /^OK s pid=\d+ replay failed \(0 of 1 cells replayed\)\n$/);
  assert.equal((await d.pysh("status", "s")).code, 0); // the session is fine
});
