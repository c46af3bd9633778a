// Builds what is sent to a bare python3 at bootstrap: a one-line stage 1 (typed into
// `python3 -qui`, or given as `-c` to a local interpreter), then the zlib-compressed stage 2
// (agent/boot.py with every agent module).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { deflateSync } from "node:zlib";
import { packageRoot } from "../util/package-root.js";

export const READY_LINE = "PYTHOND READY 1";

/** Python modules shipped in the payload: every .py under agent/ except boot.py, by dotted name. */
export function agentModules(root = join(packageRoot(), "agent")): Record<string, string> {
  const modules: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== "__pycache__") walk(path);
      } else if (name.endsWith(".py") && path !== join(root, "boot.py")) {
        let mod = relative(root, path).slice(0, -3).split(sep).join(".");
        if (mod.endsWith(".__init__")) mod = mod.slice(0, -".__init__".length);
        modules[mod] = readFileSync(path, "utf8");
      }
    }
  };
  walk(root);
  return modules;
}

let cachedPayload: Buffer | undefined;

export function agentPayload(): Buffer {
  if (cachedPayload) return cachedPayload;
  const root = join(packageRoot(), "agent");
  const boot = readFileSync(join(root, "boot.py"), "utf8");
  // A JSON object of strings is also a Python dict literal (JSON.stringify escapes only what
  // Python reads the same way: \" \\ \n \r \t \b \f \uXXXX).
  const bundle = JSON.stringify(agentModules(root));
  const stage2 = boot.replace("__PYTHOND_BUNDLE__", () => bundle);
  return (cachedPayload = deflateSync(Buffer.from(stage2, "utf8"), { level: 9 }));
}

/** Stage 1: one simple statement, so the REPL runs it at once; it reads exactly the payload. */
export function stage1(payloadLength: number): Buffer {
  const n = payloadLength;
  return Buffer.from(
    `import os,zlib;_p=b"";exec("while len(_p)<${n}:_p+=os.read(0,${n}-len(_p)) or os._exit(3)");` +
      `exec(zlib.decompress(_p))\n`,
  );
}

/**
 * How a python3 is started: `python3 -qui` reads stage 1 from stdin like a typed line (any
 * transport: ssh joins argv into a shell command line, so code cannot travel in argv there);
 * a bare local interpreter gets stage 1 as `-c`, which skips the interactive start-up hook
 * (`site` imports readline and rlcompleter for the REPL: ~11 ms and ~2 MiB).
 */
export function bootstrapArgs(argv: readonly string[]): { args: string[]; stage1InArgv: boolean } {
  if (argv.length === 1) return { args: ["-u", "-c", stage1(agentPayload().length).toString().trimEnd()], stage1InArgv: true };
  return { args: [...argv.slice(1), "-qui"], stage1InArgv: false };
}

/**
 * Everything written to the interpreter's stdin: stage 1 (unless in argv), stage 2, cached
 * bytecode (code-cache.ts: u32 count, then u32 length + bytes per part), the config frame.
 */
export function bootstrapBytes(config: object, stage1InArgv = false, code: Buffer[] = []): Buffer {
  const payload = agentPayload();
  const u32 = (n: number) => {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const cfg = Buffer.from(JSON.stringify(config), "utf8");
  return Buffer.concat([
    ...(stage1InArgv ? [] : [stage1(payload.length)]),
    payload,
    u32(code.length),
    ...code.flatMap((c) => [u32(c.length), c]),
    u32(cfg.length),
    cfg,
  ]);
}
