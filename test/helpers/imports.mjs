// The static import graph of the sources (what a module loads before any dynamic import):
// the lazy-load tests check that heavy code stays off a path.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

// Static imports only: `import x from "y"`, `import "y"`, `export … from "y"`; not `import type`.
const STATIC = /^\s*(?:import|export)\s+(?!type\s)(?:[^;"']*?\bfrom\s+)?["']([^"']+)["']/gm;

/** Files reachable from entry through static imports, and the packages they import. */
export function staticClosure(root, entry) {
  const files = new Set();
  const packages = new Set();
  const todo = [join(root, entry)];
  while (todo.length) {
    const f = todo.pop();
    if (files.has(f)) continue;
    files.add(f);
    for (const [, spec] of readFileSync(f, "utf8").matchAll(STATIC)) {
      if (spec.startsWith(".")) {
        const target = join(dirname(f), spec.replace(/\.js$/, ".ts"));
        assert.ok(existsSync(target), `${relative(root, f)} imports ${spec}, which does not exist`);
        todo.push(target);
      } else if (!spec.startsWith("node:")) packages.add(spec);
    }
  }
  return { files: [...files].map((f) => relative(root, f)), packages: [...packages] };
}
