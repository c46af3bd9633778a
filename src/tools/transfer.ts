// upload/download of one file with block reuse (rsync-like, fixed blocks); trees are
// transfer-tree.ts. Both sides hash blocks (sha256) at the same time; only differing blocks
// travel, unchanged blocks are copied remotely from the old file; a temp file beside the
// target is atomically renamed over it (a symlink there is replaced, never written through);
// modes and modification times are preserved. An unchanged file costs one call; on upload a
// remote file with the local size and modification time counts as unchanged without hashing
// (rsync's quick check) unless `checksum` is set or the local file was modified in the last
// two seconds.
import { createHash } from "node:crypto";
import { open, lstat, rename, chmod, unlink, stat, rm, utimes } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { FileSync, FileSystem } from "./builtins.js";
import type { ToolCaller } from "./call-types.js";

export interface TransferOptions {
  /** Block size for signatures (default 4 MiB). */
  blockSize?: number;
  /**
   * Upload: compare block hashes even when the remote file has the local file's size and
   * modification time (by default such a file counts as unchanged, as rsync's quick check).
   */
  checksum?: boolean;
  /** Files transferred at once for trees (default 4). */
  concurrency?: number;
  /**
   * Replace what is in the way: a directory where a file goes, or (in a tree) a file where a
   * directory goes. Without it such a transfer is refused before anything changes.
   */
  force?: boolean;
  /** Called as bytes are sent, reused or checked, and as files finish (totals known up front). */
  onProgress?: (p: TransferProgress) => void;
}

export interface TransferProgress {
  files: number;
  filesTotal: number;
  /** Bytes dealt with so far: sent, reused or found unchanged. */
  bytes: number;
  bytesTotal: number;
}

/** Progress of one transfer, reported through TransferOptions.onProgress. */
export class Tracker {
  readonly p: TransferProgress = { files: 0, filesTotal: 0, bytes: 0, bytesTotal: 0 };
  constructor(private readonly report?: (p: TransferProgress) => void) {}
  total(files: number, bytes: number): void {
    this.p.filesTotal += files;
    this.p.bytesTotal += bytes;
    this.report?.({ ...this.p });
  }
  advance(bytes: number, files = 0): void {
    this.p.bytes += bytes;
    this.p.files += files;
    this.report?.({ ...this.p });
  }
}

/** A transfer refused because something of another kind is in the way (force replaces it). */
export class TransferConflictError extends Error {
  override name = "TransferConflictError";
}

export interface TransferResult {
  /** Entries created or changed: files (content or mode), and in trees directories and symlinks. */
  changed: number;
  files: number;
  /** Total bytes of the files. */
  size: number;
  /** Bytes that travelled. */
  transferred: number;
  /** Bytes reused from the existing copy. */
  reused: number;
  /** Tool calls made. */
  calls: number;
}

export const DEFAULT_BLOCK = 4 * 1024 * 1024;
const BATCH_BYTES = 8 * 1024 * 1024;
export const RACY_MS = 2000;

interface LocalSig {
  size: number;
  mode: number;
  blocks: string[];
}

async function localSignature(path: string, blockSize: number, stop: () => boolean = () => false): Promise<LocalSig | null> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  try {
    const st = await fh.stat();
    const buf = Buffer.allocUnsafe(Math.min(blockSize, Math.max(st.size, 1)));
    const blocks: string[] = [];
    for (let off = 0; off < st.size && !stop(); off += blockSize) {
      const want = Math.min(blockSize, st.size - off);
      const { bytesRead } = await fh.read(buf, 0, want, off);
      blocks.push(createHash("sha256").update(buf.subarray(0, bytesRead)).digest("hex"));
    }
    return { size: st.size, mode: st.mode & 0o7777, blocks };
  } finally {
    await fh.close();
  }
}

export function empty(): TransferResult {
  return { changed: 0, files: 0, size: 0, transferred: 0, reused: 0, calls: 0 };
}

export function add(a: TransferResult, b: TransferResult): void {
  for (const k of Object.keys(a) as (keyof TransferResult)[]) a[k] += b[k];
}

/** Upload one file. */
export async function uploadFile(remote: ToolCaller, local: string, remotePath: string, opts: TransferOptions = {}, tracker?: Tracker): Promise<TransferResult> {
  const bs = opts.blockSize ?? DEFAULT_BLOCK;
  const res = empty();
  res.files = 1;
  let st;
  try {
    st = await stat(local, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`${local}: no such file`);
    throw e;
  }
  if (!tracker) (tracker = new Tracker(opts.onProgress)).total(1, Number(st.size));
  const mtimeNs = st.mtimeNs;
  // A file modified in the last moments may change again within the same clock tick without
  // its time changing ("racily clean", as git calls it): hash it.
  const racy = Date.now() - Number(st.mtimeMs) < RACY_MS;
  const quick = opts.checksum || racy ? null : { size: Number(st.size), mtime_ns: mtimeNs };
  // The remote hashes while we hash; a quick-check match stops our hashing.
  let quickMatch = false;
  const remoteSigP = remote.call(FileSync.signature, remotePath, bs, quick, true).then((sig) => {
    quickMatch = sig.same === true;
    return sig;
  });
  remoteSigP.catch(() => {});
  res.calls++;
  const mine = await localSignature(local, bs, () => quickMatch);
  if (!mine) throw new Error(`${local}: no such file`);
  let theirs = await remoteSigP;
  res.size = mine.size;
  if (theirs.type === "symlink") theirs = { exists: false }; // commit's rename replaces the link
  if (theirs.exists && theirs.type !== "file") {
    // A directory (or a device, a socket) is in the way: replaced only when asked.
    const kind = (await remote.call(FileSystem.stat, remotePath)).type;
    res.calls++;
    if (kind === "dir" && !opts.force) throw new TransferConflictError(`refusing to replace ${remotePath} (a directory) with a file`);
    if (kind === "dir") {
      await remote.call(FileSystem.absent, remotePath, true);
      res.calls++;
    }
    theirs = { exists: false };
  }
  const same =
    theirs.same === true ||
    (theirs.exists && theirs.type === "file" && theirs.size === mine.size && theirs.blocks!.length === mine.blocks.length &&
      theirs.blocks!.every((h, i) => h === mine.blocks[i]));
  if (same) {
    res.reused = mine.size;
    if (theirs.mode !== mine.mode || theirs.mtime_ns !== mtimeNs) {
      // Same bytes: give the copy our mode and time, so the next quick check matches.
      await remote.call(FileSync.attrs, remotePath, mine.mode, mtimeNs);
      res.calls++;
      if (theirs.mode !== mine.mode) res.changed = 1;
    }
    tracker.advance(mine.size, 1);
    return res;
  }
  const reuse = theirs.exists && theirs.type === "file" ? theirs.blocks! : [];
  const tmp = await remote.call(FileSync.begin, remotePath);
  res.calls++;
  const fh = await open(local, "r");
  try {
    let ops: unknown[] = [];
    let batch = 0;
    const inflight: Promise<number>[] = [];
    const flush = async () => {
      if (!ops.length) return;
      inflight.push(remote.call(FileSync.apply, tmp, remotePath, ops));
      res.calls++;
      ops = [];
      batch = 0;
      if (inflight.length >= 2) await inflight.shift();
    };
    for (let i = 0; i < mine.blocks.length; i++) {
      const off = i * bs;
      const len = Math.min(bs, mine.size - off);
      if (reuse[i] === mine.blocks[i] && off + len <= (theirs.size ?? 0)) {
        ops.push([off, "copy", len]);
        res.reused += len;
      } else {
        const buf = Buffer.allocUnsafe(len);
        await fh.read(buf, 0, len, off);
        ops.push([off, buf]);
        batch += len;
        res.transferred += len;
      }
      tracker.advance(len);
      if (batch >= BATCH_BYTES || ops.length >= 256) await flush();
    }
    await flush();
    await Promise.all(inflight);
    await remote.call(FileSync.commit, tmp, remotePath, mine.size, mine.mode, mtimeNs);
    res.calls++;
    res.changed = 1;
    tracker.advance(0, 1);
  } catch (e) {
    await remote.call(FileSync.abort, tmp).catch(() => {});
    throw e;
  } finally {
    await fh.close();
  }
  return res;
}

/**
 * Download one file: only blocks that differ from the local copy travel. The copy gets the
 * remote file's mode and modification time; a symlink in its place is replaced, never
 * written through.
 */
export async function downloadFile(remote: ToolCaller, remotePath: string, local: string, opts: TransferOptions = {}, tracker?: Tracker): Promise<TransferResult> {
  const bs = opts.blockSize ?? DEFAULT_BLOCK;
  const res = empty();
  res.files = 1;
  const theirsP = remote.call(FileSync.signature, remotePath, bs);
  theirsP.catch(() => {});
  res.calls++;
  const here = await lstat(local).catch(() => undefined);
  if (here?.isDirectory()) {
    await theirsP.catch(() => {});
    if (!opts.force) throw new TransferConflictError(`refusing to replace ${local} (a directory) with a file`);
    await rm(local, { recursive: true, force: true });
  }
  const mine = here?.isFile() ? await localSignature(local, bs) : null;
  const theirs = await theirsP;
  if (!theirs.exists || theirs.type !== "file") throw new Error(`${remotePath}: not a regular file on the remote`);
  res.size = theirs.size!;
  if (!tracker) (tracker = new Tracker(opts.onProgress)).total(1, res.size);
  const blocks = theirs.blocks!;
  if (mine && mine.size === theirs.size && mine.blocks.every((h, i) => h === blocks[i])) {
    res.reused = mine.size;
    if (mine.mode !== theirs.mode) {
      await chmod(local, theirs.mode!);
      res.changed = 1;
    }
    await utimes(local, new Date(), nsToSeconds(theirs.mtime_ns));
    tracker.advance(mine.size, 1);
    return res;
  }
  const tmp = join(dirname(local), `.${basename(local)}.${process.pid}.${Date.now()}.pythond-sync`);
  const out = await open(tmp, "w", 0o600);
  const old = mine ? await open(local, "r") : null;
  try {
    let ranges: [number, number][] = [];
    let batch = 0;
    const fetch = async () => {
      if (!ranges.length) return;
      const rs = ranges;
      ranges = [];
      batch = 0;
      const datas = await remote.call(FileSync.read, remotePath, rs);
      res.calls++;
      for (let k = 0; k < rs.length; k++) {
        // The file shrank on the remote meanwhile: what we would write is not the file.
        if (!(datas[k] instanceof Uint8Array) || datas[k].length !== rs[k][1]) throw new Error(`${remotePath} changed on the remote while it was copied`);
        await out.write(datas[k], 0, datas[k].length, rs[k][0]);
        tracker.advance(rs[k][1]);
      }
    };
    for (let i = 0; i < blocks.length; i++) {
      const off = i * bs;
      const len = Math.min(bs, theirs.size! - off);
      if (old && mine && mine.blocks[i] === blocks[i] && off + len <= mine.size) {
        const buf = Buffer.allocUnsafe(len);
        await old.read(buf, 0, len, off);
        await out.write(buf, 0, len, off);
        res.reused += len;
        tracker.advance(len);
      } else {
        ranges.push([off, len]);
        batch += len;
        res.transferred += len;
        if (batch >= BATCH_BYTES) await fetch();
      }
    }
    await fetch();
    await out.truncate(theirs.size!);
    await out.chmod(theirs.mode!);
    await out.utimes(new Date(), nsToSeconds(theirs.mtime_ns));
    await out.close();
    await rename(tmp, local);
    res.changed = 1;
    tracker.advance(0, 1);
  } catch (e) {
    await out.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  } finally {
    await old?.close();
  }
  return res;
}

/**
 * A modification time in nanoseconds as utimes takes it: seconds in a double, which libuv cuts
 * to whole microseconds. Half a microsecond more than the time's own microsecond keeps the
 * double's rounding (a quarter of a microsecond today) from cutting it to the one before, so
 * the copy gets exactly the source's microsecond.
 */
export function nsToSeconds(ns: bigint | number | undefined): number {
  if (ns === undefined) return Date.now() / 1000;
  const us = BigInt(ns) / 1000n;
  return Number(us / 1_000_000n) + (Number(us % 1_000_000n) + 0.5) / 1e6;
}
