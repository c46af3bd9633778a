// The listing of a remote directory tree (FileSync.tree), checked before any of it is written
// locally: a remote that is broken or hostile must not make a download write outside its
// target, through a symlink, or on a parent that is not a directory of the same listing.
export interface TreeEntry {
  rel: string;
  kind: "dir" | "file" | "symlink";
  mode: number;
  /** Files: size in bytes. */
  size: number;
  /** Files: modification time (ns); -1n when the remote did not say. */
  mtimeNs: bigint;
  /** Symlinks: the link's text. */
  target: string;
}

/** More entries than any tree we copy in one go; a listing above it is refused. */
export const MAX_TREE_ENTRIES = 1_000_000;
const MAX_PATH = 4096;

function bad(what: string, why: string): never {
  throw new Error(`bad tree listing from the remote: ${what}: ${why}`);
}

function relPath(v: unknown, i: number): string {
  if (typeof v !== "string" || !v || v.length > MAX_PATH) bad(`entry ${i}`, "the path is not a non-empty string of at most 4096 characters");
  if (v.includes("\0") || v.startsWith("/") || v.split("/").some((c) => c === "" || c === "." || c === ".."))
    bad(JSON.stringify(v), "not a plain relative path inside the tree");
  return v;
}

function int(v: unknown): number | undefined {
  if (typeof v === "bigint" && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/**
 * Validate a FileSync.tree reply: [rel, "dir"|"file"|"symlink", mode, size|target, mtime_ns?]
 * per entry, each path once, every parent a directory listed before it.
 */
export function parseTreeListing(raw: unknown): TreeEntry[] {
  if (!Array.isArray(raw)) bad("reply", "not a list");
  if (raw.length > MAX_TREE_ENTRIES) bad("reply", `more than ${MAX_TREE_ENTRIES} entries`);
  const dirs = new Set<string>([""]);
  const seen = new Set<string>();
  return raw.map((e, i): TreeEntry => {
    if (!Array.isArray(e) || e.length < 4 || e.length > 5) bad(`entry ${i}`, "not [path, kind, mode, size or target, mtime?]");
    const rel = relPath(e[0], i);
    if (seen.has(rel)) bad(JSON.stringify(rel), "listed twice");
    seen.add(rel);
    const slash = rel.lastIndexOf("/");
    if (!dirs.has(slash < 0 ? "" : rel.slice(0, slash))) bad(JSON.stringify(rel), "its parent is not a directory listed before it");
    const mode = int(e[2]);
    if (mode === undefined || mode > 0o7777) bad(JSON.stringify(rel), "the mode is not a number from 0 to 0o7777");
    const entry: TreeEntry = { rel, kind: e[1], mode, size: 0, mtimeNs: -1n, target: "" };
    if (e[1] === "dir") dirs.add(rel);
    else if (e[1] === "file") {
      const size = int(e[3]);
      if (size === undefined) bad(JSON.stringify(rel), "the size is not a non-negative integer");
      entry.size = size;
      if (e[4] !== undefined) {
        if (int(e[4]) === undefined && !(typeof e[4] === "bigint" && e[4] >= 0n)) bad(JSON.stringify(rel), "the modification time is not a non-negative integer");
        entry.mtimeNs = BigInt(e[4] as number | bigint);
      }
    } else if (e[1] === "symlink") {
      if (typeof e[3] !== "string" || !e[3] || e[3].length > MAX_PATH || e[3].includes("\0")) bad(JSON.stringify(rel), "the link target is not a non-empty string");
      entry.target = e[3];
    } else bad(JSON.stringify(rel), `unknown kind ${JSON.stringify(e[1])}`);
    return entry;
  });
}
