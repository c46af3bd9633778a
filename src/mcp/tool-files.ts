// `pythond mcp --tools tools/x.py [--via "ssh web01"]`: each public method of each Tool class
// in the file becomes an MCP tool named <Class>_<method>, run through the Tool SDK on a bare
// python3 reached by the --via command (local python3 without it). The remote starts on the
// first call and serves every later one; the class source syncs on its first use.
import { Remote } from "../tools/remote.js";
import { loadTool, type ToolHandle } from "../tools/load-tool.js";
import { RemoteError } from "../tools/errors.js";
import { toolMethodSpecs, type ToolMethodSpec } from "./tool-schema.js";
import type { McpTool } from "./python-tools.js";
import type { McpConfig } from "./config.js";
import { text } from "./shape.js";

const MAX_STREAM_ITEMS = 10_000;

/** JSON for a codec value: bytes as base64, bigints as strings, Maps as pairs. */
function show(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) => {
      if (typeof x === "bigint") return x.toString();
      if (x instanceof Uint8Array) return { bytes_base64: Buffer.from(x).toString("base64") };
      if (x instanceof Map) return [...x.entries()];
      if (x instanceof Set) return [...x];
      if (typeof x === "number" && !Number.isFinite(x)) return String(x);
      return x;
    },
    1,
  ) ?? "null";
}

function cut(s: string, cap: number): string {
  return s.length <= cap ? s : `${s.slice(0, cap)}\n[pythond: result cut at ${cap} of ${s.length} characters]`;
}

export class ToolFiles {
  private remote: Promise<Remote> | null = null;

  constructor(private readonly via: string[], private readonly cfg: McpConfig) {}

  private connect(): Promise<Remote> {
    if (!this.remote) {
      this.remote = Remote.spawn([...this.via, "python3"]).catch((e) => {
        this.remote = null; // the next call tries again
        throw e;
      });
    }
    return this.remote.then((r) => (r.closed ? ((this.remote = null), this.connect()) : r));
  }

  async publish(file: string): Promise<McpTool[]> {
    const specs = await toolMethodSpecs(file);
    if (!specs.length) throw new Error(`${file}: no public methods of Tool classes`);
    const handles = new Map<string, ToolHandle<any>>();
    for (const s of specs) if (!handles.has(s.cls)) handles.set(s.cls, await loadTool(file, s.cls));
    const where = this.via.length ? ` Runs through \`${this.via.join(" ")}\`.` : "";
    return specs.map((s) => ({
      name: `${s.cls}_${s.method}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64),
      description: `${s.doc || `${s.cls}.${s.method}`}${s.classDoc ? `\n\n(${s.cls}: ${s.classDoc.split("\n")[0]})` : ""}${where}`,
      inputSchema: s.schema,
      call: (args, extra) => this.call(handles.get(s.cls)!, s, args, extra.signal),
    }));
  }

  private async call(handle: ToolHandle<any>, s: ToolMethodSpec, args: Record<string, unknown>, signal: AbortSignal) {
    const positional: unknown[] = [];
    const kwargs: Record<string, unknown> = {};
    for (const p of s.params) {
      if (!(p.name in args)) continue;
      if (p.positionalOnly) positional.push(args[p.name]);
      else kwargs[p.name] = args[p.name];
    }
    const remote = await this.connect();
    const ref = handle[s.method];
    try {
      if (s.stream) {
        const items: unknown[] = [];
        for await (const item of remote.streamWith({ kwargs, signal }, ref, ...positional)) {
          items.push(item);
          if (items.length >= MAX_STREAM_ITEMS) break;
        }
        return text(cut(show(items), this.cfg.maxOutput));
      }
      return text(cut(show(await remote.callWith({ kwargs, signal }, ref, ...positional)), this.cfg.maxOutput));
    } catch (e) {
      if (e instanceof RemoteError) return text(`${e.type}: ${e.remoteMessage}\n${e.remoteTraceback}`.trimEnd(), true);
      throw e;
    }
  }

  async close(): Promise<void> {
    const r = await this.remote?.catch(() => null);
    await r?.close();
  }
}
