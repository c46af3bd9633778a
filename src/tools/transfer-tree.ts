// upload/download of a file or a whole directory tree. A tree costs a few calls however large
// it is when little changed: upload sends the whole tree's shape in one plan call (the remote
// makes directories and symlinks and answers which files fail the quick check); download gets
// the remote tree in one listing call and quick-checks locally. Only the files that differ
// then travel, each with block reuse (transfer.ts). Symlinks inside a tree are copied as links;
// the top path itself is followed. Nothing in the target is deleted that the source lacks,
// except what --force removes to put a file where a directory is (or the reverse).
import { lstat, mkdir, readdir, readlink, stat, chmod, symlink, unlink, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BigIntStats } from "node:fs";
import { FileSync } from "./builtins.js";
import type { ToolCaller } from "./call-types.js";
import { parseTreeListing } from "./tree-listing.js";
import { mapLimit } from "../util/map-limit.js";
import {
  uploadFile,
  downloadFile,
  empty,
  add,
  Tracker,
  TransferConflictError,
  RACY_MS,
  type TransferOptions,
  type TransferResult,
} from "./transfer.js";

/** Entries per plan call: one call for any ordinary tree, a few for a huge one. */
const PLAN_BATCH = 20_000;

type PlanEntry = ["d", string, number] | ["l", string, string] | ["f", string, number, number, bigint | null];

function refuse(conflicts: string[]): never {
  const more = conflicts.length > 3 ? ` and ${conflicts.length - 3} more` : "";
  throw new TransferConflictError(`refusing to replace ${conflicts.slice(0, 3).join(", ")}${more}`);
}

/** Upload a file or a directory tree (symlinks in it copied as links, modes preserved). */
export async function upload(remote: ToolCaller, local: string, remotePath: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const st = await stat(local);
  return st.isDirectory() ? uploadTree(remote, local, remotePath, opts) : uploadFile(remote, local, remotePath, opts);
}

/** Upload the directory `local` as `remotePath` (created with its parents if missing). */
export async function uploadTree(remote: ToolCaller, local: string, remotePath: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const total = empty();
  const tracker = new Tracker(opts.onProgress);
  const entries: PlanEntry[] = [];
  const sizes = new Map<string, number>();
  const now = Date.now();
  const walk = async (dir: string, rel: string) => {
    for (const ent of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      const l = join(dir, ent.name);
      if (ent.isDirectory()) {
        entries.push(["d", r, (await lstat(l)).mode & 0o7777]);
        await walk(l, r);
      } else if (ent.isSymbolicLink()) entries.push(["l", r, await readlink(l)]);
      else if (ent.isFile()) {
        const s = await lstat(l, { bigint: true });
        // A file modified in the last moments may change again unseen: no quick check for it.
        const quick = !opts.checksum && now - Number(s.mtimeMs) >= RACY_MS;
        entries.push(["f", r, Number(s.mode & 0o7777n), Number(s.size), quick ? s.mtimeNs : null]);
        sizes.set(r, Number(s.size));
      }
      // Sockets, FIFOs and devices are not copied (as rsync without --specials).
    }
  };
  const rootMode = (await stat(local)).mode & 0o7777;
  await walk(local, "");
  let bytes = 0;
  for (const n of sizes.values()) bytes += n;
  tracker.total(sizes.size, bytes);
  const todo: string[] = [];
  for (let i = 0; i === 0 || i < entries.length; i += PLAN_BATCH) {
    const plan = await remote.call(FileSync.plan_tree, remotePath, rootMode, entries.slice(i, i + PLAN_BATCH), opts.force === true);
    total.calls++;
    total.changed += plan.changed;
    todo.push(...plan.todo);
  }
  const moving = new Set(todo);
  for (const [rel, size] of sizes) {
    if (moving.has(rel)) continue;
    total.files++;
    total.size += size;
    total.reused += size;
    tracker.advance(size, 1);
  }
  await mapLimit(todo, opts.concurrency ?? 4, async (r) => add(total, await uploadFile(remote, join(local, r), `${remotePath}/${r}`, opts, tracker)));
  return total;
}

/** Download a file or a directory tree. */
export async function download(remote: ToolCaller, remotePath: string, local: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const [[, kind, mode]] = await remote.call(FileSync.probe, [remotePath]);
  if (kind === "file") return downloadFile(remote, remotePath, local, opts);
  if (kind !== "dir") throw new Error(`${remotePath}: ${kind === "missing" ? "no such file or directory" : "not a regular file or directory"} on the remote`);
  const r = await downloadTree(remote, remotePath, local, mode, opts);
  r.calls++;
  return r;
}

/** Download the remote directory `remotePath` as `local` (mode: the remote directory's). */
export async function downloadTree(remote: ToolCaller, remotePath: string, local: string, mode: number, opts: TransferOptions = {}): Promise<TransferResult> {
  const total = empty();
  const tracker = new Tracker(opts.onProgress);
  const listing = parseTreeListing(await remote.call(FileSync.tree, remotePath));
  total.calls++;
  const here = new Map<string, BigIntStats | undefined>();
  const conflicts: string[] = [];
  const root = await stat(local).catch(() => undefined); // the target may be a link to a directory
  if (root && !root.isDirectory()) conflicts.push(`${local} (not a directory; the source is one)`);
  for (const e of listing) {
    const h = await lstat(join(local, e.rel), { bigint: true }).catch(() => undefined);
    here.set(e.rel, h);
    if (h && h.isDirectory() !== (e.kind === "dir")) conflicts.push(`${join(local, e.rel)} (${h.isDirectory() ? "a directory" : "not a directory"}; the source has a ${e.kind})`);
  }
  if (conflicts.length && !opts.force) refuse(conflicts);
  if (root && !root.isDirectory()) await rm(local, { force: true });
  if (!root || !root.isDirectory()) {
    await mkdir(local, { recursive: true });
    total.changed++;
  }
  if (((await stat(local)).mode & 0o7777) !== mode) await chmod(local, mode);
  const todo: [string, string][] = [];
  let bytes = 0;
  for (const e of listing) if (e.kind === "file") bytes += e.size;
  tracker.total(listing.filter((e) => e.kind === "file").length, bytes);
  const now = BigInt(Date.now()) * 1_000_000n;
  for (const e of listing) {
    const l = join(local, e.rel);
    let h = here.get(e.rel);
    if (h && h.isDirectory() !== (e.kind === "dir")) {
      await rm(l, { recursive: true, force: true });
      h = undefined;
    }
    if (e.kind === "dir") {
      if (!h) await mkdir(l);
      if (!h || Number(h.mode & 0o7777n) !== e.mode) {
        await chmod(l, e.mode);
        total.changed++;
      }
    } else if (e.kind === "symlink") {
      if (h?.isSymbolicLink() && (await readlink(l)) === e.target) continue;
      if (h) await unlink(l);
      await symlink(e.target, l);
      total.changed++;
    } else {
      if (h?.isSymbolicLink()) {
        await unlink(l); // a link where the source has a file: replace the link, never write through it
        h = undefined;
      }
      // Quick check: the size and modification time a previous download gave it (to the
      // microsecond: what utimes keeps, nsToSeconds), for a remote file not modified in the
      // last moments.
      const sameTime = e.mtimeNs >= 0n && h?.mtimeNs === (e.mtimeNs / 1000n) * 1000n;
      if (h?.isFile() && Number(h.size) === e.size && sameTime && now - e.mtimeNs > BigInt(RACY_MS) * 1_000_000n) {
        if (Number(h.mode & 0o7777n) !== e.mode) {
          await chmod(l, e.mode);
          total.changed++;
        }
        total.files++;
        total.size += e.size;
        total.reused += e.size;
        tracker.advance(e.size, 1);
      } else todo.push([`${remotePath}/${e.rel}`, l]);
    }
  }
  await mapLimit(todo, opts.concurrency ?? 4, async ([r, l]) => add(total, await downloadFile(remote, r, l, opts, tracker)));
  return total;
}
