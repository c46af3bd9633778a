// upload/download of files and directory trees with block reuse (rsync-like, fixed blocks).
// Both sides hash blocks (sha256) at the same time; only differing blocks travel, unchanged
// blocks are copied remotely from the old file; a temp file beside the target is atomically
// renamed over it; modes (and, on upload, modification times) are preserved. An unchanged file
// costs one call; on upload a remote file with the local size and modification time counts as
// unchanged without hashing (rsync's quick check) unless `checksum` is set or the local file
// was modified in the last two seconds.
import { createHash } from "node:crypto";
import { open, lstat, mkdir, readdir, readlink, rename, chmod, symlink, unlink, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { FileSync } from "./builtins.js";
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
}

export interface TransferResult {
  /** Files whose content or mode changed. */
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

const DEFAULT_BLOCK = 4 * 1024 * 1024;
const BATCH_BYTES = 8 * 1024 * 1024;
const RACY_MS = 2000;

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

function empty(): TransferResult {
  return { changed: 0, files: 0, size: 0, transferred: 0, reused: 0, calls: 0 };
}

function add(a: TransferResult, b: TransferResult): void {
  for (const k of Object.keys(a) as (keyof TransferResult)[]) a[k] += b[k];
}

/** Upload one file. */
export async function uploadFile(remote: ToolCaller, local: string, remotePath: string, opts: TransferOptions = {}): Promise<TransferResult> {
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
  const mtimeNs = st.mtimeNs;
  // A file modified in the last moments may change again within the same clock tick without
  // its time changing ("racily clean", as git calls it): hash it.
  const racy = Date.now() - Number(st.mtimeMs) < RACY_MS;
  const quick = opts.checksum || racy ? null : { size: Number(st.size), mtime_ns: mtimeNs };
  // The remote hashes while we hash; a quick-check match stops our hashing.
  let quickMatch = false;
  const remoteSigP = remote.call(FileSync.signature, remotePath, bs, quick).then((sig) => {
    quickMatch = sig.same === true;
    return sig;
  });
  remoteSigP.catch(() => {});
  res.calls++;
  const mine = await localSignature(local, bs, () => quickMatch);
  if (!mine) throw new Error(`${local}: no such file`);
  const theirs = await remoteSigP;
  res.size = mine.size;
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
      if (batch >= BATCH_BYTES || ops.length >= 256) await flush();
    }
    await flush();
    await Promise.all(inflight);
    await remote.call(FileSync.commit, tmp, remotePath, mine.size, mine.mode, mtimeNs);
    res.calls++;
    res.changed = 1;
  } catch (e) {
    await remote.call(FileSync.abort, tmp).catch(() => {});
    throw e;
  } finally {
    await fh.close();
  }
  return res;
}

/** Download one file: only blocks that differ from the local copy travel. */
export async function downloadFile(remote: ToolCaller, remotePath: string, local: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const bs = opts.blockSize ?? DEFAULT_BLOCK;
  const res = empty();
  res.files = 1;
  const theirsP = remote.call(FileSync.signature, remotePath, bs);
  theirsP.catch(() => {});
  res.calls++;
  const mine = await localSignature(local, bs);
  const theirs = await theirsP;
  if (!theirs.exists || theirs.type !== "file") throw new Error(`${remotePath}: not a regular file on the remote`);
  res.size = theirs.size!;
  const blocks = theirs.blocks!;
  if (mine && mine.size === theirs.size && mine.blocks.every((h, i) => h === blocks[i])) {
    res.reused = mine.size;
    if (mine.mode !== theirs.mode) {
      await chmod(local, theirs.mode!);
      res.changed = 1;
    }
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
      for (let k = 0; k < rs.length; k++) await out.write(datas[k], 0, datas[k].length, rs[k][0]);
    };
    for (let i = 0; i < blocks.length; i++) {
      const off = i * bs;
      const len = Math.min(bs, theirs.size! - off);
      if (old && mine && mine.blocks[i] === blocks[i] && off + len <= mine.size) {
        const buf = Buffer.allocUnsafe(len);
        await old.read(buf, 0, len, off);
        await out.write(buf, 0, len, off);
        res.reused += len;
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
    await out.close();
    await rename(tmp, local);
    res.changed = 1;
  } catch (e) {
    await out.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  } finally {
    await old?.close();
  }
  return res;
}

async function mapLimit<T>(items: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

/** Upload a file or a directory tree (symlinks copied as links, modes preserved). */
export async function upload(remote: ToolCaller, local: string, remotePath: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const st = await lstat(local);
  if (!st.isDirectory()) return uploadFile(remote, local, remotePath, opts);
  const total = empty();
  const files: [string, string][] = [];
  const walk = async (dir: string, rdir: string) => {
    const mode = (await stat(dir)).mode & 0o7777;
    await remote.call(FileSync.mkdir, rdir, mode);
    total.calls++;
    for (const ent of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const l = join(dir, ent.name);
      const r = `${rdir}/${ent.name}`;
      if (ent.isDirectory()) await walk(l, r);
      else if (ent.isSymbolicLink()) {
        await remote.call(FileSync.symlink, await readlink(l), r);
        total.calls++;
      } else if (ent.isFile()) files.push([l, r]);
    }
  };
  await walk(local, remotePath);
  await mapLimit(files, opts.concurrency ?? 4, async ([l, r]) => add(total, await uploadFile(remote, l, r, opts)));
  return total;
}

/** Download a file or a directory tree. */
export async function download(remote: ToolCaller, remotePath: string, local: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const st = await remote.call(FileSync.signature, remotePath, opts.blockSize ?? DEFAULT_BLOCK);
  if (st.exists && st.type === "file") return downloadFile(remote, remotePath, local, opts);
  const total = empty();
  const entries = await remote.call(FileSync.tree, remotePath);
  total.calls += 2;
  await mkdir(local, { recursive: true });
  const files: [string, string][] = [];
  for (const [rel, kind, mode, extra] of entries) {
    const l = join(local, rel);
    if (kind === "dir") {
      await mkdir(l, { recursive: true });
      await chmod(l, mode);
    } else if (kind === "symlink") {
      await unlink(l).catch(() => {});
      await symlink(String(extra), l);
    } else files.push([`${remotePath}/${rel}`, l]);
  }
  await mapLimit(files, opts.concurrency ?? 4, async ([r, l]) => add(total, await downloadFile(remote, r, l, opts)));
  return total;
}
