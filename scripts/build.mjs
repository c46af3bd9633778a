// Builds dist/: one bundled file per executable (small cold path for pysh) and the SDK entry,
// then type declarations for the SDK.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { rmSync, renameSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
  // ws pulls optional native helpers with require(); keep them optional.
  external: ["bufferutil", "utf-8-validate"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};
await build({
  ...common,
  entryPoints: {
    pyctl: "src/cli/pyctl.ts",
    pythond: "src/cli/pythond.ts",
    index: "src/index.ts",
    // Built on its own so test/unix-ws.test.mjs can drive it against a real ws server.
    "unix-ws": "src/client/unix-ws.ts",
    // Likewise for test/cli-options.test.mjs: the CLI's one option parser, unit-tested.
    "cli-options": "src/cli/options.ts",
    // And test/wire-structured.test.mjs: the structured protocol's codec.
    "wire-structured": "src/wire/structured.ts",
    // And test/files-put-get.test.mjs: the check of a remote tree listing, fed garbage.
    "tree-listing": "src/tools/tree-listing.ts",
    // And test/wire-legacy.test.mjs: pythond 0.4's commands and replies.
    "wire-legacy": "src/wire/legacy.ts",
  },
  outdir: "dist",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
});
// pysh is what agents pay on every call: one file, no chunks. esbuild inlines its lazily
// imported verbs, so a one-shot `pysh run` reads one file instead of ~10 chunks (each an ESM
// resolve + load + link, ~1 ms apiece). Builtins the rare paths need are imported
// dynamically in their functions (autostart), so they stay off the cold path.
// It is CommonJS (dist/pysh.cjs, loaded by bin/pysh, which bin/package.json marks CommonJS):
// a CommonJS main skips the ESM loader's set-up, ~5 ms per call.
await build({
  ...common,
  format: "cjs",
  entryPoints: { pysh: "src/cli/pysh.ts" },
  outExtension: { ".js": ".cjs" },
  outdir: "dist",
  banner: { js: 'const __pyshUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__pyshUrl" },
  // bin/pysh runs this file through vm.Script (code cache), where import() has no loader:
  // the lazily loaded builtins become require() calls made at the same moment.
  supported: { "dynamic-import": false },
});
// pysh put/get (src/cli/file-verbs.ts): the Tool SDK they run would add ~80 KB to pysh.cjs,
// which every other verb would read; pysh requires this file only for those two verbs.
await build({ ...common, format: "cjs", entryPoints: { "pysh-files": "src/cli/file-verbs.ts" }, outExtension: { ".js": ".cjs" }, outdir: "dist", banner: { js: 'const __pyshUrl = require("node:url").pathToFileURL(__filename).href;' }, define: { "import.meta.url": "__pyshUrl" } });
// bin/pysh's loader of dist/pysh.cjs with a V8 code cache (src/cli/code-cache.ts).
await build({ ...common, banner: {}, format: "cjs", entryPoints: { "code-cache": "src/cli/code-cache.ts" }, outExtension: { ".js": ".cjs" }, outdir: "dist" });
// The web page (pyctl web): its browser code with xterm.js and the fit addon, and one
// stylesheet, served from dist/web/ by src/web/assets.ts. Classic scripts (IIFE), so the page
// reads its CSP nonce from document.currentScript. Never loaded by pysh.
await build({
  bundle: true,
  platform: "browser",
  target: "chrome100",
  format: "iife",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
  entryPoints: { app: "src/web/page/app.ts", login: "src/web/page/login.ts", "app-css": "src/web/page/app.css" },
  outdir: "dist/web",
  entryNames: "[name]",
});
renameSync("dist/web/app-css.css", "dist/web/app.css");
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
