// Runs a CommonJS bundle (dist/pysh.cjs) through vm.Script with a V8 code cache, so a one-shot
// call neither parses the ~100 KB bundle nor compiles the functions it runs: they come from the
// cache. Node 22's module.enableCompileCache does this natively; Node 20 has only cachedData.
//
// One cache file per verb (`pysh run` and `pysh ls` run different functions), written beside
// the bundle by the first call of that verb after the function ran (createCachedData then
// holds every function compiled so far). Each file starts with a stamp line: the Node version,
// the architecture and the bundle's size, mtime and inode. V8 itself checks only its version,
// its flags and the source length, so the stamp is what keeps a cache from being used with a
// rebuilt bundle; V8 rejects (and we then rewrite) a cache made under other flags. A directory
// we may not write (a system-wide install) just means no cache: the bundle compiles as before.
import { readFileSync, statSync, writeFileSync, renameSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { Script } from "node:vm";

const MAX_CACHE_BYTES = 16 * 1024 * 1024;

interface CommonJsModule {
  exports: unknown;
}

/** Run `file` as the CommonJS module `module`, with `req` as its require (builtins only). */
export function load(file: string, module: CommonJsModule, req: (id: string) => unknown): void {
  const source = readFileSync(file, "utf8");
  const st = statSync(file);
  const word = process.argv[2] ?? "";
  const cachePath = `${file}.${/^[a-z]{1,16}$/.test(word) ? word : "other"}.cache`;
  const stamp = `${process.version} ${process.arch} ${st.size} ${st.mtimeMs} ${st.ino}\n`;
  let cachedData: Buffer | undefined;
  try {
    const buf = readFileSync(cachePath);
    const nl = buf.indexOf(10);
    if (buf.length <= MAX_CACHE_BYTES && nl > 0 && buf.toString("latin1", 0, nl + 1) === stamp) cachedData = buf.subarray(nl + 1);
  } catch {
    /* no cache yet */
  }
  // The wrapper Node's own CommonJS loader puts around a file.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) process.once("exit", () => save(script, cachePath, stamp));
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, req, module, file, dirname(file));
}

function save(script: Script, cachePath: string, stamp: string): void {
  const tmp = `${cachePath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(stamp, "latin1"), script.createCachedData()]), { mode: 0o644, flag: "wx" });
    renameSync(tmp, cachePath); // atomic: a concurrent call reads the old file or the new one
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      /* never made */
    }
  }
}
