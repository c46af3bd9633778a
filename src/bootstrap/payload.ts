// Builds what is sent to a bare python3 at bootstrap: a one-line stage 1 typed into
// `python3 -qui`, then the zlib-compressed stage 2 (agent/boot.py with every agent module).
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
  const bundle = JSON.stringify(JSON.stringify(agentModules(root)));
  // A JSON string literal is also a valid Python string literal.
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

/** Everything written to the interpreter's stdin: stage 1, stage 2, then the config frame. */
export function bootstrapBytes(config: object): Buffer {
  const payload = agentPayload();
  const cfg = Buffer.from(JSON.stringify(config), "utf8");
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(cfg.length, 0);
  return Buffer.concat([stage1(payload.length), payload, len, cfg]);
}
