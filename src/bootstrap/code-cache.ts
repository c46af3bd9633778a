// Bytecode of the agent's modules, per local interpreter, for the life of this process. An agent
// compiles its modules from source at every start (~6 ms of a ~25 ms start); the first agent of
// an interpreter reports their marshalled bytecode ({"k": "code"} frame), and later agents of it
// get that in their bootstrap and only unmarshal it. The agent itself checks that the bytecode is
// for its own Python version (the magic number) before using any of it. Only bare local
// interpreters (argv of one element) take part: over ssh the bytes would cost more than they save.
import type { Frame } from "../link/frame.js";

const MAX_CODE_BYTES = 8 * 1024 * 1024;
const cache = new Map<string, Buffer[]>(); // key -> reports, each a marshalled (magic, {module: code})

/** The cache key of an agent started with argv, or undefined if it takes no part. */
export function codeKey(argv: readonly string[]): string | undefined {
  return argv.length === 1 ? argv[0] : undefined;
}

export function cachedCode(key: string | undefined): Buffer[] {
  return (key !== undefined && cache.get(key)) || [];
}

/** Keep the bytecode an agent reported (the frame's one attachment). */
export function rememberCode(key: string | undefined, frame: Frame): void {
  const blob = frame.blobs[0];
  if (key === undefined || !blob) return;
  const parts = cache.get(key) ?? [];
  if (parts.reduce((n, p) => n + p.length, 0) + blob.length > MAX_CODE_BYTES) return;
  parts.push(Buffer.from(blob));
  cache.set(key, parts);
}
