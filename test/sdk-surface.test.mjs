// The SDK is a library: what `import "pythond"` loads holds no CLI and no daemon code, and the
// client (what pysh, the MCP server and the web page use) does not reach into the daemon.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { root } from "./helpers/tools-env.mjs";

const IMPORT = /(?:^|[;\s])(?:import|export)\s[^;]*?\bfrom\s+["'](\.{1,2}\/[^"']+)["']|\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

/** Relative imports of one TypeScript file, as repository paths (.js specifiers name .ts files). */
function importsOf(file) {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = m[1] ?? m[2];
    const target = join(dirname(file), spec.replace(/\.js$/, ".ts"));
    assert.ok(existsSync(target), `${relative(root, file)} imports ${spec}, which does not exist`);
    return target;
  });
}

/** Every source file reachable from entry through relative imports (static and dynamic). */
function reachable(entry) {
  const seen = new Set();
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    todo.push(...importsOf(f));
  }
  return [...seen].map((f) => relative(root, f));
}

test("the SDK entry (src/index.ts) reaches no CLI and no daemon code", () => {
  const files = reachable(join(root, "src", "index.ts"));
  assert.ok(files.includes(join("src", "tools", "remote.ts")) && files.includes(join("src", "client", "client.ts")), "the walk follows imports");
  const wrong = files.filter((f) => f.startsWith(join("src", "cli") + "/") || f.startsWith(join("src", "daemon") + "/"));
  assert.deepEqual(wrong, []);
});

test("src/client imports nothing from src/daemon (nor from the CLI)", () => {
  const dir = join(root, "src", "client");
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
    const bad = reachable(join(dir, name)).filter((f) => f.startsWith(join("src", "daemon") + "/") || f.startsWith(join("src", "cli") + "/"));
    assert.deepEqual(bad, [], `src/client/${name}`);
  }
});

test("the built package exports the SDK, not CLI verbs", async () => {
  const sdk = await import(join(root, "dist", "index.js"));
  for (const name of ["Remote", "loadTool", "Client", "generateToolTypes", "Fleet"]) assert.equal(typeof sdk[name], "function", name);
  assert.equal(sdk.typesCommand, undefined);
});
