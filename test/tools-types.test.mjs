// `pythond types`: TypeScript interfaces generated from Python signatures and annotations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { fixtures, root, tempDir } from "./helpers/tools-env.mjs";

const run = (args) =>
  promisify(execFile)(process.execPath, ["--input-type=module", "-e", `import { typesCommand } from ${JSON.stringify(join(root, "dist", "index.js"))}; process.exitCode = await typesCommand(${JSON.stringify(args)});`]).then(
    (r) => ({ code: 0, ...r }),
    (e) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

test("types: interfaces for tools, dataclasses, enums, async generators, inheritance", async () => {
  const { code, stdout } = await run([join(fixtures, "basic.py")]);
  assert.equal(code, 0);
  assert.match(stdout, /export interface Point \{\n  x: number;\n  y: number;\n\}/);
  assert.match(stdout, /export type Color = "red" \| "blue";/);
  assert.match(stdout, /export interface BasicApi \{/);
  assert.match(stdout, /  greet\(name: string\): string;/);
  assert.match(stdout, /  point\(x: number, y: number\): Point;/);
  assert.match(stdout, /  count\(n: number, delay\?: number\): AsyncIterable<unknown>;/);
  assert.match(stdout, /  missing\(path: string\): Uint8Array;/);
  assert.match(stdout, /export interface DerivedApi \{[^}]*greet\(name: string\): string;/s);
});

test("types: the seed's tool file, modern annotations", async (t) => {
  const dir = tempDir(t);
  const f = join(dir, "t.py");
  writeFileSync(f, 'from typing import Optional, Dict, List, Tuple\nfrom pythond import Tool\nclass T(Tool):\n    @staticmethod\n    def f(a: "list[int]", b: Optional[str] = None, *rest: bytes) -> Dict[str, Tuple[int, str]]:\n        """Does f."""\n    @classmethod\n    def g(cls, m: "dict[int, str] | None") -> "int | None": ...\n');
  const { code, stdout } = await run([f]);
  assert.equal(code, 0);
  assert.match(stdout, /\/\*\* Does f\. \*\/\n  f\(a: number\[\], b\?: string \| null, \.\.\.rest: Uint8Array\[\]\): Record<string, \[number, string\]>;/);
  assert.match(stdout, /  g\(m: Map<number, string> \| null\): number \| null;/);
});

test("types: usage and parse errors give exit codes 2 and 1", async (t) => {
  assert.equal((await run([])).code, 2);
  assert.equal((await run(["--bogus"])).code, 2);
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: pythond types/);
  const dir = tempDir(t);
  const bad = join(dir, "bad.py");
  writeFileSync(bad, "class (:\n");
  const r = await run([bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /SyntaxError/);
  assert.equal((await run([join(dir, "missing.py")])).code, 1);
});
