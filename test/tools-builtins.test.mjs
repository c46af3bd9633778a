// Built-in tools (Exec, FileSystem) and upload/download with block reuse, on a real agent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, readlinkSync, openSync, writeSync, closeSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Remote, Exec, FileSystem, RemoteError, TransferConflictError } from "../dist/index.js";
import { PYTHON, tempDir } from "./helpers/tools-env.mjs";

const spawnRemote = async (t) => {
  const r = await Remote.spawn([PYTHON]);
  t.after(() => r.close());
  return r;
};

test("Exec: capture, env, cwd, stdin, check", async (t) => {
  const r = await spawnRemote(t);
  const dir = tempDir(t);
  const res = await r.callWith({ kwargs: { capture_output: true, text: true, env: { X: "42", PATH: process.env.PATH }, cwd: dir } }, Exec.shell, 'echo "$X $(pwd)"; cat');
  assert.equal(res.returncode, 0);
  assert.equal(res.stdout, `42 ${dir}\n`);
  const fed = await r.callWith({ kwargs: { capture_output: true, stdin: "fed in" } }, Exec.command, "cat");
  assert.equal(Buffer.from(fed.stdout).toString(), "fed in");
  const quiet = await r.call(Exec.command, "echo", "discarded");
  assert.equal(quiet.stdout, null);
  await assert.rejects(r.call(Exec.command, "false"), (e) => e instanceof RemoteError && e.type === "subprocess.CalledProcessError" && e.details.returncode === 1);
  assert.equal((await r.callWith({ kwargs: { check: false } }, Exec.command, "false")).returncode, 1);
});

test("FileSystem: atomic write with mode, stat, glob, idempotent line_in_file, directory, absent", async (t) => {
  const r = await spawnRemote(t);
  const dir = tempDir(t);
  const f = join(dir, "conf");
  assert.equal(await r.call(FileSystem.write, f, "a=1\n", 0o600), true);
  assert.equal(await r.call(FileSystem.write, f, "a=1\n", 0o600), false);
  assert.equal(statSync(f).mode & 0o777, 0o600);
  assert.equal(await r.call(FileSystem.read_str, f), "a=1\n");
  const st = await r.call(FileSystem.stat, f);
  assert.deepEqual([st.exists, st.type, st.size, st.mode], [true, "file", 4, 0o600]);
  assert.deepEqual(await r.call(FileSystem.stat, join(dir, "nope")), { exists: false });
  const diff = await r.call(FileSystem.line_in_file, f, "a=2", "^a=");
  assert.match(diff, /-a=1\n\+a=2/);
  assert.equal(await r.call(FileSystem.line_in_file, f, "a=2", "^a="), "");
  assert.equal(readFileSync(f, "utf8"), "a=2\n");
  assert.equal(statSync(f).mode & 0o777, 0o600);
  assert.equal(await r.call(FileSystem.directory, join(dir, "d", "e"), 0o750), true);
  assert.equal(await r.call(FileSystem.directory, join(dir, "d", "e"), 0o750), false);
  assert.deepEqual(await r.call(FileSystem.glob, dir, "*"), [join(dir, "conf"), join(dir, "d")]);
  assert.equal(await r.call(FileSystem.absent, join(dir, "d"), true), true);
  assert.equal(await r.call(FileSystem.absent, join(dir, "d"), true), false);
  assert.deepEqual([...(await r.call(FileSystem.read_bytes, f))], [...Buffer.from("a=2\n")]);
});

test("upload/download: block reuse, unchanged costs one call, modes preserved, trees", async (t) => {
  const r = await spawnRemote(t);
  const dir = tempDir(t);
  const src = join(dir, "src.bin");
  const dst = join(dir, "dst.bin");
  const bs = 64 * 1024;
  writeFileSync(src, randomBytes(10 * bs + 123));
  chmodSync(src, 0o640);
  const first = await r.upload(src, dst, { blockSize: bs });
  assert.equal(first.transferred, 10 * bs + 123);
  assert.deepEqual(readFileSync(dst), readFileSync(src));
  assert.equal(statSync(dst).mode & 0o777, 0o640);
  const ino = statSync(dst).ino;
  const again = await r.upload(src, dst, { blockSize: bs });
  assert.deepEqual([again.changed, again.transferred, again.calls], [0, 0, 1]);
  assert.equal(statSync(dst).ino, ino, "an unchanged file keeps its inode");
  // Change one block: only that block travels, and the file is replaced atomically.
  const fd = openSync(src, "r+");
  writeSync(fd, Buffer.from("CHANGED"), 0, 7, 3 * bs + 5);
  closeSync(fd);
  const delta = await r.upload(src, dst, { blockSize: bs });
  assert.equal(delta.transferred, bs);
  assert.equal(delta.reused, 9 * bs + 123);
  assert.deepEqual(readFileSync(dst), readFileSync(src));
  assert.equal(statSync(dst).mtimeMs, statSync(src).mtimeMs, "upload keeps the modification time");
  // Quick check (as rsync): a file last modified a while ago, whose remote copy has its size and
  // time, is not hashed again; checksum: true hashes anyway.
  const past = new Date(Date.now() - 3600_000);
  utimesSync(src, past, past);
  const settled = await r.upload(src, dst, { blockSize: bs });
  assert.deepEqual([settled.transferred, settled.calls], [0, 2], "same bytes: only the time is copied");
  assert.equal(statSync(dst).mtimeMs, statSync(src).mtimeMs);
  const fd2 = openSync(src, "r+");
  writeSync(fd2, Buffer.from("SAME SIZE"), 0, 9, 5 * bs);
  closeSync(fd2);
  utimesSync(src, past, past);
  const quick = await r.upload(src, dst, { blockSize: bs });
  assert.deepEqual([quick.transferred, quick.calls], [0, 1], "size and time match: taken as unchanged");
  assert.notDeepEqual(readFileSync(dst), readFileSync(src));
  const checked = await r.upload(src, dst, { blockSize: bs, checksum: true });
  assert.equal(checked.transferred, bs, "checksum: true finds the changed block");
  assert.deepEqual(readFileSync(dst), readFileSync(src));
  // Download mirrors it.
  const back = join(dir, "back.bin");
  await r.download(dst, back, { blockSize: bs });
  assert.deepEqual(readFileSync(back), readFileSync(src));
  assert.equal(statSync(back).mode & 0o777, 0o640);
  // Trees, with a symlink and an executable.
  const tree = join(dir, "tree");
  mkdirSync(join(tree, "sub"), { recursive: true });
  writeFileSync(join(tree, "sub", "run.sh"), "#!/bin/sh\necho hi\n");
  chmodSync(join(tree, "sub", "run.sh"), 0o755);
  writeFileSync(join(tree, "a.txt"), "A");
  symlinkSync("a.txt", join(tree, "link"));
  const up = await r.upload(tree, join(dir, "tree2"));
  assert.equal(up.files, 2);
  assert.equal(readFileSync(join(dir, "tree2", "a.txt"), "utf8"), "A");
  assert.equal(statSync(join(dir, "tree2", "sub", "run.sh")).mode & 0o777, 0o755);
  assert.equal(readlinkSync(join(dir, "tree2", "link")), "a.txt");
  const down = await r.download(join(dir, "tree2"), join(dir, "tree3"));
  assert.equal(down.files, 2);
  assert.equal(readFileSync(join(dir, "tree3", "sub", "run.sh"), "utf8"), "#!/bin/sh\necho hi\n");
  assert.equal(statSync(join(dir, "tree3", "sub", "run.sh")).mode & 0o777, 0o755);
});

test("trees: an unchanged upload costs one call, download two; conflicts refused unless force; progress", async (t) => {
  const r = await spawnRemote(t);
  const dir = tempDir(t);
  const tree = join(dir, "tree");
  mkdirSync(join(tree, "a", "b"), { recursive: true });
  for (const [i, p] of ["f1", "a/f2", "a/b/f3"].entries()) writeFileSync(join(tree, p), "x".repeat(1000 * (i + 1)));
  symlinkSync("f1", join(tree, "l"));
  const hourAgo = new Date(Date.now() - 3600_000);
  for (const p of ["f1", "a/f2", "a/b/f3"]) utimesSync(join(tree, p), hourAgo, hourAgo);
  const seen = [];
  const first = await r.upload(tree, join(dir, "up"), { onProgress: (p) => seen.push(p) });
  assert.deepEqual([first.files, first.size, first.transferred], [3, 6000, 6000]);
  assert.deepEqual(seen.at(-1), { files: 3, filesTotal: 3, bytes: 6000, bytesTotal: 6000 });
  assert.ok(seen.some((p) => p.bytes < 6000), "progress comes before the end");
  const again = await r.upload(tree, join(dir, "up"));
  assert.deepEqual([again.changed, again.transferred, again.reused, again.calls], [0, 0, 6000, 1], "one plan call for the whole tree");
  const down = await r.download(join(dir, "up"), join(dir, "down"));
  assert.deepEqual([down.files, down.transferred], [3, 6000]);
  assert.equal(statSync(join(dir, "down", "a", "b", "f3"), { bigint: true }).mtimeNs, statSync(join(tree, "a", "b", "f3"), { bigint: true }).mtimeNs, "download keeps modification times");
  const reDown = await r.download(join(dir, "up"), join(dir, "down"));
  assert.deepEqual([reDown.changed, reDown.transferred, reDown.calls], [0, 0, 2], "probe and listing");
  // A directory where the source has a file: nothing is written, force replaces it.
  rmSync(join(dir, "up", "a", "f2"));
  mkdirSync(join(dir, "up", "a", "f2"));
  writeFileSync(join(tree, "new"), "n");
  await assert.rejects(r.upload(tree, join(dir, "up")), (e) => e instanceof RemoteError && e.type === "FileExistsError" && /refusing to replace .*up\/a\/f2 \(dir; the source has a file\)/.test(e.message));
  assert.throws(() => statSync(join(dir, "up", "new")), /ENOENT/, "refused before anything changed");
  await r.upload(tree, join(dir, "up"), { force: true });
  assert.equal(readFileSync(join(dir, "up", "a", "f2"), "utf8"), "x".repeat(2000));
  // The same on download, for a file where the local copy has a directory.
  rmSync(join(dir, "down", "f1"));
  mkdirSync(join(dir, "down", "f1"));
  await assert.rejects(r.download(join(dir, "up"), join(dir, "down")), (e) => e instanceof TransferConflictError && /down\/f1 \(a directory; the source has a file\)/.test(e.message));
  await r.download(join(dir, "up"), join(dir, "down"), { force: true });
  assert.equal(readFileSync(join(dir, "down", "f1"), "utf8"), "x".repeat(1000));
  // A single file onto a directory, both ways.
  await assert.rejects(r.upload(join(tree, "f1"), join(dir, "up", "a")), (e) => e instanceof TransferConflictError && /up\/a \(a directory\) with a file/.test(e.message));
  await assert.rejects(r.download(join(dir, "up", "f1"), join(dir, "down", "a")), TransferConflictError);
});

test("download never writes through a symlink in the local copy (a directory there is a link elsewhere)", async (t) => {
  const r = await spawnRemote(t);
  const dir = tempDir(t);
  mkdirSync(join(dir, "src", "a"), { recursive: true });
  writeFileSync(join(dir, "src", "a", "f"), "from the remote");
  mkdirSync(join(dir, "dst"));
  mkdirSync(join(dir, "elsewhere"));
  symlinkSync(join(dir, "elsewhere"), join(dir, "dst", "a"));
  await assert.rejects(r.download(join(dir, "src"), join(dir, "dst")), /refusing to replace .*dst\/a \(not a directory; the source has a dir\)/);
  assert.throws(() => statSync(join(dir, "elsewhere", "f")), /ENOENT/, "nothing was written through the link");
});
