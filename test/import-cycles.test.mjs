// No import cycle in src/ (issue 10): every relative import of every TypeScript file, read from
// the source (static imports and re-exports, type-only ones included, and lazy import()s), and
// the graph searched for a cycle. A cycle is reported as the files around it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, dirname, relative, resolve } from "node:path";
import { ROOT } from "./helpers/daemon.mjs";

const SRC = join(ROOT, "src");

function tsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The module specifiers a TypeScript file imports (comments removed first). */
export function specifiers(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  const found = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^;'"`]*?\bfrom\s*["']([^"']+)["']/g, // import x from, export {x} from
    /\bimport\s*["']([^"']+)["']/g, // import "side-effect"
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, // import("lazy")
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) found.push(m[1]);
  return found;
}

/** The file a relative specifier names (NodeNext: "./x.js" is ./x.ts), or undefined for a package. */
function resolveImport(from, spec) {
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${relative(ROOT, from)}: import "${spec}" names no file`);
}

/** Every cycle's files, one per strongly connected component (Tarjan), smallest first. */
export function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) !== idx.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found.sort((a, b) => a.length - b.length);
}

test("the import reader finds every kind of import and skips comments and packages", () => {
  const src = [
    'import { a } from "./a.js";',
    'import type { B } from "../b.js";',
    "import {\n  c,\n  d,\n} from './c.js';",
    'export { e } from "./e.js";',
    'export * from "./f.js";',
    'import "./g.js";',
    'const h = await import("./h.js");',
    '// import { x } from "./commented.js";',
    '/* import { y } from "./block.js"; */',
    'import ws from "ws";',
    'const url = "http://example.com"; // a string with // in it',
  ].join("\n");
  assert.deepEqual(specifiers(src).sort(), ["../b.js", "./a.js", "./c.js", "./e.js", "./f.js", "./g.js", "./h.js", "ws"]);
});

test("the cycle search finds a cycle and its files, and none in a tree", () => {
  const g = (edges) => new Map(Object.entries(edges));
  assert.deepEqual(cycles(g({ a: ["b"], b: ["c"], c: ["a"], d: ["a"] })), [["a", "b", "c"]]);
  assert.deepEqual(cycles(g({ a: ["a"] })), [["a"]]);
  assert.deepEqual(cycles(g({ a: ["b", "c"], b: ["c"], c: [] })), []);
});

test("no import cycle in src/", () => {
  const files = tsFiles(SRC);
  assert.ok(files.length > 50, "the walk finds the sources");
  const graph = new Map(files.map((f) => [f, specifiers(readFileSync(f, "utf8")).map((s) => resolveImport(f, s)).filter(Boolean)]));
  const found = cycles(graph).map((c) => c.map((f) => relative(SRC, f)).join(" <-> "));
  assert.deepEqual(found, [], `import cycles in src/:\n${found.join("\n")}`);
});
