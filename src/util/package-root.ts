// Finds the installed package's root (where agent/ and python/ live), from any bundled chunk.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "pythond") return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error("pythond: cannot find the package root (agent/ files)");
    dir = up;
  }
}
