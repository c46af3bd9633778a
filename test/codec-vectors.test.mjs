// Unit test of the tool value codec, TypeScript side (src/tools/codec.ts), against the vectors
// it shares with the Python side (test/vectors/codec.json, also read by test/python/test_codec.py):
// both sides write the same wire for the same value and refuse the same garbage.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { encodeValue, decodeValue, CodecError } from "../dist/index.js";

const { vectors, rejects } = JSON.parse(readFileSync(new URL("./vectors/codec.json", import.meta.url), "utf8"));

/** The native TypeScript value a vector's notation names. */
function build(spec) {
  if (Array.isArray(spec)) return spec.map(build);
  if (spec === null || typeof spec !== "object") return spec;
  const v = spec.v;
  switch (spec["~"]) {
    case undefined:
      return Object.fromEntries(Object.entries(spec).map(([k, x]) => [k, build(x)]));
    case "bytes":
      return Buffer.from(spec.hex, "hex");
    case "int":
      return BigInt(v);
    case "float":
      return { nan: NaN, inf: Infinity, "-inf": -Infinity }[v];
    case "undefined":
      return undefined;
    case "tuple":
      return v.map(build);
    case "set":
      return new Set(v.map(build));
    case "map":
      return new Map(v.map(([k, x]) => [build(k), build(x)]));
    case "datetime":
      return new Date(v);
    default:
      throw new Error(`the vectors name an unknown kind ${spec["~"]}`);
  }
}

/** Decoded Sets come back as arrays (docs/PROTOCOL.md): compare them so. */
function asDecoded(value) {
  if (value instanceof Set) return [...value].map(asDecoded);
  if (value instanceof Map) return new Map([...value].map(([k, x]) => [asDecoded(k), asDecoded(x)]));
  if (Array.isArray(value)) return value.map(asDecoded);
  if (value && typeof value === "object" && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, asDecoded(x)]));
  }
  return value;
}

const deep = (levels) => {
  let v = [];
  for (let i = 1; i < levels; i++) v = [v];
  return v;
};

test("there are vectors for TypeScript", () => {
  assert.ok(vectors.filter((v) => "ts" in v).length > 15);
});

test("encode gives the wire bytes of every vector", () => {
  for (const v of vectors.filter((v) => "ts" in v)) {
    const blobs = [];
    // Through JSON text, as on the link.
    assert.deepEqual(JSON.parse(JSON.stringify(encodeValue(build(v.ts), blobs))), v.wire, v.name);
    assert.deepEqual(blobs.map((b) => Buffer.from(b).toString("hex")), v.blobs ?? [], v.name);
  }
});

test("decode gives the native value of every vector", () => {
  for (const v of vectors) {
    const expected = "ts_decoded" in v ? v.ts_decoded : "ts" in v ? v.ts : undefined;
    if (expected === undefined && !("ts_decoded" in v) && !("ts" in v)) continue;
    const blobs = (v.blobs ?? []).map((h) => Buffer.from(h, "hex"));
    assert.deepEqual(decodeValue(v.wire, blobs), asDecoded(build(expected)), v.name);
  }
});

test("garbage is refused with a CodecError", () => {
  for (const v of rejects) {
    const wire = v.deep ? deep(v.deep) : v.wire;
    const blobs = (v.blobs ?? []).map((h) => Buffer.from(h, "hex"));
    assert.throws(() => decodeValue(wire, blobs), CodecError, v.name);
  }
});
