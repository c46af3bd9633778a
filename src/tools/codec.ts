// The tool value codec, TypeScript side (the table is in docs/PROTOCOL.md, "Codec").
// JSON for structure; bytes travel as raw frame attachments referenced by {"$":"b","i":n}.
import { CodecError } from "./errors.js";

const MAX_DEPTH = 200;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function encodeValue(v: unknown, blobs: Uint8Array[], depth = 0): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      if (Number.isFinite(v)) return v;
      return { $: "f", v: Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf" };
    case "undefined":
      return null;
    case "bigint":
      return v >= -SAFE && v <= SAFE ? Number(v) : { $: "n", v: v.toString() };
    case "object":
      break;
    default:
      throw new CodecError(`cannot encode a value of type ${typeof v}`);
  }
  if (v === null) return null;
  if (depth > MAX_DEPTH) throw new CodecError(`value nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(v)) return v.map((x) => encodeValue(x, blobs, depth + 1));
  if (v instanceof Uint8Array) {
    blobs.push(v);
    return { $: "b", i: blobs.length - 1 };
  }
  if (v instanceof ArrayBuffer) {
    blobs.push(new Uint8Array(v));
    return { $: "b", i: blobs.length - 1 };
  }
  if (v instanceof Date) return { $: "dt", v: v.toISOString() };
  if (v instanceof Map) {
    return { $: "map", v: [...v].map(([k, x]) => [encodeValue(k, blobs, depth + 1), encodeValue(x, blobs, depth + 1)]) };
  }
  if (v instanceof Set) return { $: "set", v: [...v].map((x) => encodeValue(x, blobs, depth + 1)) };
  const obj = v as Record<string, unknown>;
  if (Object.prototype.hasOwnProperty.call(obj, "$")) {
    return { $: "map", v: Object.entries(obj).map(([k, x]) => [k, encodeValue(x, blobs, depth + 1)]) };
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    const x = obj[k];
    if (x !== undefined) out[k] = encodeValue(x, blobs, depth + 1);
  }
  return out;
}

/** Decode a value; `used`, when given, accumulates the attachment bytes the value referenced. */
export function decodeValue(v: unknown, blobs: Buffer[], used?: { bytes: number }, depth = 0): any {
  if (v === null || typeof v !== "object") return v;
  if (depth > MAX_DEPTH) throw new CodecError(`value nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(v)) return v.map((x) => decodeValue(x, blobs, used, depth + 1));
  const o = v as Record<string, any>;
  const tag = o.$;
  if (tag === undefined) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o)) out[k] = decodeValue(o[k], blobs, used, depth + 1);
    return out;
  }
  switch (tag) {
    case "b": {
      const b = blobs[o.i];
      if (!Number.isInteger(o.i) || b === undefined) throw new CodecError("attachment index out of range");
      if (used) used.bytes += b.length;
      return b;
    }
    case "n":
      if (typeof o.v !== "string" || !/^-?\d+$/.test(o.v)) throw new CodecError("malformed big integer");
      return BigInt(o.v);
    case "f":
      return o.v === "nan" ? NaN : o.v === "inf" ? Infinity : o.v === "-inf" ? -Infinity : bad(tag);
    case "set":
      return list(o.v, tag).map((x) => decodeValue(x, blobs, used, depth + 1));
    case "map":
      return new Map(
        list(o.v, tag).map((pair) => {
          const p = list(pair, tag);
          return [decodeValue(p[0], blobs, used, depth + 1), decodeValue(p[1], blobs, used, depth + 1)];
        }),
      );
    case "dt": {
      const d = new Date(String(o.v));
      if (Number.isNaN(d.getTime())) throw new CodecError("malformed datetime");
      return d;
    }
    case "date":
      return String(o.v);
    case "dc":
    case "enum":
      return decodeValue(o.v, blobs, used, depth + 1);
    case "exc":
      return { type: String(o.type), message: String(o.message) };
    default:
      throw new CodecError(`unknown codec tag ${JSON.stringify(tag)}`);
  }
}

function list(x: unknown, tag: string): unknown[] {
  if (!Array.isArray(x)) bad(tag);
  return x as unknown[];
}

function bad(tag: string): never {
  throw new CodecError(`malformed ${JSON.stringify(tag)} value`);
}
