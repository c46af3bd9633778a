// Tool references: loadTool() reads a Python file holding Tool classes and returns typed method
// references (T.method) to pass to remote.call(). Nothing is sent until a call needs it.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";

/** What travels on first use: a module's source (keyed by name + content hash) or a built-in. */
export interface ToolDef {
  /** Sync key: "<module>@<sha256 prefix>"; a changed file gets a new key and re-syncs. */
  readonly key: string;
  readonly kind: "module" | "builtin";
  /** Module name on the agent. */
  readonly module: string;
  /** Class qualname inside the module ("Outer.Inner" allowed). */
  readonly qualname: string;
  readonly source?: string;
  readonly file?: string;
}

type AnyFn = (...args: any[]) => any;

/** A reference to one method of one tool class; F is the method's TypeScript signature. */
export interface MethodRef<F extends AnyFn = AnyFn> {
  readonly tool: ToolDef;
  readonly method: string;
  /** Phantom: carries the signature for type inference only. */
  readonly __signature?: F;
}

export type ToolHandle<T> = { readonly [K in keyof T]: T[K] extends AnyFn ? MethodRef<T[K]> : never } & {
  readonly $tool: ToolDef;
};

export const MAX_TOOL_SOURCE = 16 * 1024 * 1024;

/** Method references for a ToolDef; property access makes (and caches) refs. */
export function toolHandle<T = Record<string, AnyFn>>(def: ToolDef): ToolHandle<T> {
  const refs = new Map<string, MethodRef>();
  return new Proxy({} as ToolHandle<T>, {
    get(_t, prop) {
      if (prop === "$tool") return def;
      // Not thenable (so `await loadTool()` works) and no symbol keys.
      if (typeof prop !== "string" || prop === "then" || prop === "toJSON") return undefined;
      let ref = refs.get(prop);
      if (!ref) refs.set(prop, (ref = Object.freeze({ tool: def, method: prop })));
      return ref;
    },
  });
}

/** A module name the agent can use: the file's stem, made an identifier. */
function moduleNameFor(file: string): string {
  const stem = basename(file).replace(/\.py$/, "");
  const name = stem.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(name) ? `_${name}` : name || "tool";
}

export function toolFromSource(source: string, className: string, moduleName: string, file?: string): ToolHandle<any> {
  const top = className.split(".")[0];
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(className)) {
    throw new TypeError(`invalid class name ${JSON.stringify(className)}`);
  }
  if (!new RegExp(`^class\\s+${top}\\b`, "m").test(source)) {
    throw new Error(`${file ?? moduleName}: no top-level class ${top}`);
  }
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 16);
  return toolHandle({ key: `${moduleName}@${hash}`, kind: "module", module: moduleName, qualname: className, source, file });
}

/** Load Tool class `className` from a Python file; re-load after editing to sync the new source. */
export async function loadTool<T = Record<string, AnyFn>>(file: string, className: string): Promise<ToolHandle<T>> {
  const path = resolve(file);
  const buf = await readFile(path);
  if (buf.length > MAX_TOOL_SOURCE) throw new Error(`${file}: larger than ${MAX_TOOL_SOURCE} bytes`);
  return toolFromSource(buf.toString("utf8"), className, moduleNameFor(path), path) as ToolHandle<T>;
}

/** A tool shipped inside the agent (no upload): module is its import name on the agent. */
export function builtinTool<T = Record<string, AnyFn>>(module: string, qualname: string): ToolHandle<T> {
  return toolHandle<T>({ key: `builtin:${module}`, kind: "builtin", module, qualname });
}
