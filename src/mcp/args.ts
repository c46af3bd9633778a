// Tool arguments checked against the JSON-schema subset our tools declare (type, minimum,
// enum, const, items, properties, required, additionalProperties, anyOf), so garbage gets a
// clear InvalidParams error naming the argument instead of a failure deep in a session.
// (pattern too: session names and cell ids.)
import { McpError, ErrorCode } from "@modelcontextprotocol/sdk/types.js";

export interface Schema {
  type: "object";
  properties: Record<string, any>;
  required?: string[];
  additionalProperties?: boolean;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Why v does not fit s, or null. */
function misfit(s: any, v: unknown, depth = 0): string | null {
  if (!s || typeof s !== "object" || depth > 32) return null;
  if (Array.isArray(s.anyOf)) return s.anyOf.some((x: any) => misfit(x, v, depth + 1) === null) ? null : "fits none of its types";
  if (s.const !== undefined && v !== s.const) return `must be ${JSON.stringify(s.const)}`;
  if (Array.isArray(s.enum) && !s.enum.includes(v)) return `must be one of ${JSON.stringify(s.enum)}`;
  if (s.type) {
    const t = typeOf(v);
    const ok = s.type === t || (s.type === "number" && t === "integer");
    if (!ok) return `must be ${/^[aeiou]/.test(s.type) ? "an" : "a"} ${s.type}`;
  }
  if (typeof v === "number" && typeof s.minimum === "number" && v < s.minimum) return `must be >= ${s.minimum}`;
  if (typeof v === "string" && typeof s.pattern === "string" && !new RegExp(s.pattern).test(v)) return `must match ${s.pattern}`;
  if (Array.isArray(v) && s.items) {
    for (let i = 0; i < v.length; i++) {
      const m = misfit(s.items, v[i], depth + 1);
      if (m) return `item ${i} ${m}`;
    }
  }
  if (typeOf(v) === "object") {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (o[r] === undefined) return `needs "${r}"`;
    for (const [k, x] of Object.entries(o)) {
      const sub = s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
      if (sub) {
        const m = misfit(sub, x, depth + 1);
        if (m) return `"${k}" ${m}`;
      }
    }
  }
  return null;
}

export function checkArgs(tool: string, schema: Schema, args: unknown): Record<string, unknown> {
  const a = (args ?? {}) as Record<string, unknown>;
  if (typeOf(a) !== "object") throw new McpError(ErrorCode.InvalidParams, `${tool}: arguments must be an object`);
  for (const name of schema.required ?? []) {
    if (a[name] === undefined) throw new McpError(ErrorCode.InvalidParams, `${tool}: "${name}" is required`);
  }
  for (const [name, value] of Object.entries(a)) {
    const p = schema.properties[name];
    if (!p) throw new McpError(ErrorCode.InvalidParams, `${tool}: unknown argument "${name}"`);
    const m = misfit(p, value);
    if (m) throw new McpError(ErrorCode.InvalidParams, `${tool}: "${name}" ${m}`);
  }
  return a;
}
