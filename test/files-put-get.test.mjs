// pysh put / pysh get (issue 13, Files): trees with nested directories, modes, times and
// symlinks to and from a session's host, an unchanged re-put costing two calls, conflicts
// refused without --force, missing paths, the locate op fed garbage, the remote tree listing
// fed garbage, progress only on a terminal; all through a real daemon and real agents, locally
// and through the real sshd on 127.0.0.1 (--via).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  writeFileSync,
  readFileSync,
  statSync,
  lstatSync,
  readlinkSync,
  chmodSync,
  symlinkSync,
  utimesSync,
  readdirSync,
  existsSync,
} from "node:fs";
import { join } from "node:path";
import { startedDaemon, ROOT, BIN } from "./helpers/daemon.mjs";
import { sshdMissing, startSshd } from "./helpers/sshd.mjs";
import { parseTreeListing } from "../dist/tree-listing.js";

const HOUR_AGO = new Date(Date.now() - 3600_000);

/** A tree: nested directories (one 0700), an executable, a symlink; every time an hour ago. */
function makeTree(dir) {
  mkdirSync(join(dir, "sub", "deeper"), { recursive: true });
  writeFileSync(join(dir, "a.txt"), "alpha\n");
  writeFileSync(join(dir, "sub", "run.sh"), "#!/bin/sh\necho hi\n");
  chmodSync(join(dir, "sub", "run.sh"), 0o755);
  writeFileSync(join(dir, "sub", "deeper", "data.bin"), Buffer.alloc(100_000, 7));
  chmodSync(join(dir, "sub", "deeper"), 0o700);
  symlinkSync("a.txt", join(dir, "link"));
  settle(dir);
}

/** Give every file and directory under dir a modification time an hour ago (past the quick check's racy window). */
function settle(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isSymbolicLink()) utimesSync(join(e.parentPath ?? e.path, e.name), HOUR_AGO, HOUR_AGO);
  }
}

/** The tree as [relative path, kind, mode, content or link] rows, to compare two copies. */
function snapshot(dir) {
  const rows = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath ?? e.path, e.name);
    const rel = p.slice(dir.length + 1);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) rows.push([rel, "link", readlinkSync(p)]);
    else if (st.isDirectory()) rows.push([rel, "dir", st.mode & 0o7777]);
    else rows.push([rel, "file", st.mode & 0o7777, readFileSync(p).toString("base64"), Math.round(st.mtimeMs)]);
  }
  return rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

async function json(d, ...args) {
  const r = await d.pysh(...args);
  assert.ok(r.stdout.trim(), `pysh ${args.join(" ")} printed nothing: ${r.stderr}`);
  return { code: r.code, stderr: r.stderr, ...JSON.parse(r.stdout.trim().split("\n").pop()) };
}

/** A session whose working directory is <d.dir>/host (relative REMOTE paths start there). */
async function sessionIn(t, name = "w") {
  const d = await startedDaemon(t, name);
  const host = join(d.dir, "host");
  mkdirSync(host);
  assert.equal((await d.pysh("run", name, `import os; os.chdir(${JSON.stringify(host)})`)).code, 0);
  return { d, host, local: join(d.dir, "local") };
}

test("put and get a tree to a local session: layout, modes, times, links; unchanged costs two calls", async (t) => {
  const { d, host, local } = await sessionIn(t);
  mkdirSync(local);
  const src = join(local, "tree");
  makeTree(src);
  // REMOTE defaults to LOCAL's name in the session's working directory.
  const first = await json(d, "put", "--json", "w", src);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.target, join(host, "tree"));
  assert.deepEqual([first.where, first.files, first.size, first.transferred], ["local", 3, 6 + 18 + 100_000, 6 + 18 + 100_000]);
  assert.deepEqual(snapshot(join(host, "tree")), snapshot(src), "same layout, modes, contents, times and links");
  assert.equal(statSync(join(host, "tree", "sub", "deeper")).mode & 0o777, 0o700);
  assert.equal(readlinkSync(join(host, "tree", "link")), "a.txt", "a symlink in a tree is copied as a link");
  const ino = statSync(join(host, "tree", "a.txt")).ino;

  // Unchanged: one probe and one plan call for the whole tree, nothing sent, nothing replaced.
  const again = await json(d, "put", "--json", "w", src, "tree");
  assert.deepEqual([again.code, again.target, again.changed, again.transferred, again.calls], [0, join(host, "tree"), 0, 0, 2]);
  assert.equal(statSync(join(host, "tree", "a.txt")).ino, ino);

  // One file changed, one mode changed: only that file travels, the mode costs no transfer.
  writeFileSync(join(src, "a.txt"), "alpha, beta\n");
  chmodSync(join(src, "sub", "run.sh"), 0o750);
  settle(src);
  const delta = await json(d, "put", "--json", "w", src, "tree");
  assert.deepEqual([delta.changed, delta.transferred], [2, 12]);
  assert.ok(delta.calls <= 6, `a one-file change costs a few calls (${delta.calls})`);
  assert.deepEqual(snapshot(join(host, "tree")), snapshot(src));

  // get mirrors it: LOCAL defaults to REMOTE's name in pysh's own directory.
  const back = join(d.dir, "back");
  mkdirSync(back);
  const down = JSON.parse(
    execFileSync(process.execPath, [BIN("pysh"), "get", "--json", "w", "tree"], { cwd: back, env: d.env, encoding: "utf8" }),
  );
  assert.equal(down.target, join(back, "tree"));
  assert.deepEqual(snapshot(join(back, "tree")), snapshot(src), "get keeps modes, times and links too");
  const reget = await json(d, "get", "--json", "w", "tree", join(back, "tree"));
  assert.deepEqual([reget.changed, reget.transferred, reget.calls], [0, 0, 2], "an unchanged get costs two calls");
});

test("files go into directories; conflicts are refused without --force; missing paths are named", async (t) => {
  const { d, host, local } = await sessionIn(t);
  mkdirSync(join(local, "dir"), { recursive: true });
  const file = join(local, "note.txt");
  writeFileSync(file, "note\n");
  mkdirSync(join(host, "inbox"));
  // A file onto an existing directory goes into it; a trailing slash says so explicitly.
  assert.equal((await json(d, "put", "--json", "w", file, "inbox")).target, join(host, "inbox", "note.txt"));
  assert.equal((await json(d, "put", "--json", "w", file, "inbox/")).target, join(host, "inbox", "note.txt"));
  assert.equal((await json(d, "put", "--json", "w", file, "renamed.txt")).target, join(host, "renamed.txt"));
  assert.equal(readFileSync(join(host, "renamed.txt"), "utf8"), "note\n");
  // A directory copied "into" with a trailing slash.
  writeFileSync(join(local, "dir", "x"), "x");
  assert.equal((await json(d, "put", "--json", "w", join(local, "dir"), "inbox/")).target, join(host, "inbox", "dir"));

  // A file where a directory is: refused, nothing changed; --force replaces the directory.
  mkdirSync(join(host, "blocked", "note.txt"), { recursive: true });
  writeFileSync(join(host, "blocked", "note.txt", "keep"), "k");
  const refused = await json(d, "put", "--json", "w", file, "blocked");
  assert.equal(refused.code, 1);
  assert.equal(refused.error.type, "exists");
  assert.match(refused.error.message, /refusing to replace .*blocked\/note\.txt.*--force/);
  assert.ok(existsSync(join(host, "blocked", "note.txt", "keep")));
  const forced = await json(d, "put", "--json", "--force", "w", file, "blocked");
  assert.equal(forced.code, 0, JSON.stringify(forced));
  assert.equal(readFileSync(join(host, "blocked", "note.txt"), "utf8"), "note\n");

  // A symlink where the file goes is replaced by the file, never written through.
  writeFileSync(join(host, "real.txt"), "real\n");
  symlinkSync("real.txt", join(host, "alias.txt"));
  assert.equal((await json(d, "put", "--json", "w", file, "alias.txt")).target, join(host, "alias.txt"));
  assert.ok(lstatSync(join(host, "alias.txt")).isFile(), "the link became the file");
  assert.equal(readFileSync(join(host, "real.txt"), "utf8"), "real\n", "what it pointed to is untouched");

  // A directory where a file is (the root, or inside the tree): refused before anything changes.
  writeFileSync(join(host, "plain"), "p");
  const text = await d.pysh("put", "w", join(local, "dir"), "plain");
  assert.equal(text.code, 1);
  assert.match(text.stderr, /^ERR refusing to replace .*plain \(file; the source is a directory\).*--force replaces it/);
  mkdirSync(join(host, "mixed"));
  writeFileSync(join(host, "mixed", "x"), "old");
  mkdirSync(join(local, "mixed2", "x"), { recursive: true });
  writeFileSync(join(local, "mixed2", "y"), "y");
  const inner = await json(d, "put", "--json", "w", join(local, "mixed2"), "mixed");
  assert.equal(inner.error.type, "exists");
  assert.ok(!existsSync(join(host, "mixed", "y")), "nothing of the tree was written");
  assert.equal((await json(d, "put", "--json", "--force", "w", join(local, "mixed2"), "mixed")).code, 0);
  assert.ok(statSync(join(host, "mixed", "x")).isDirectory());

  // get: a file where a local directory is, refused the same way.
  mkdirSync(join(local, "got", "renamed.txt"), { recursive: true });
  const gotRefused = await json(d, "get", "--json", "w", "renamed.txt", join(local, "got"));
  assert.equal(gotRefused.error.type, "exists");
  assert.match(gotRefused.error.message, /refusing to replace .*got\/renamed\.txt \(a directory\) with a file \(--force replaces it\)/);
  assert.equal((await json(d, "get", "--json", "--force", "w", "renamed.txt", join(local, "got"))).code, 0);
  assert.equal(readFileSync(join(local, "got", "renamed.txt"), "utf8"), "note\n");

  // Missing paths, named with where they are missing.
  const cases = [
    [["put", "--json", "w", join(local, "nope")], "not_found", /nope: no such file or directory/],
    [["put", "--json", "w", file, "no/such/dir/x"], "not_found", new RegExp(`${host}/no/such/dir: no such directory on this machine`)],
    [["put", "--json", "w", file, "missing/"], "not_found", /missing: no such directory on this machine/],
    [["get", "--json", "w", "absent.txt", join(local, "a")], "not_found", new RegExp(`${host}/absent.txt: no such file or directory on this machine`)],
    [["get", "--json", "w", "renamed.txt", join(local, "no", "x")], "not_found", /no: no such directory/],
    [["put", "--json", "nosuch", file], "no_session", /nosuch/],
  ];
  for (const [args, type, message] of cases) {
    const r = await json(d, ...args);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(r.error.type, type, args.join(" "));
    assert.match(r.error.message, message);
  }
  // A deadline: exit 124, nothing left running (pysh returns, and so the tool agent is gone).
  const late = await json(d, "put", "--json", "--timeout", "0.01", "w", file, "late.txt");
  assert.deepEqual([late.code, late.error.type], [124, "timeout"]);
  assert.match(late.error.message, /gave up after 0.01 s; the copy is incomplete .*run it again to finish/);
  // A dead session: no copy into a session that is not there.
  assert.equal((await d.pysh("new", "gone")).code, 0);
  await d.pysh("run", "gone", "import os; os._exit(3)");
  const dead = await json(d, "put", "--json", "gone", file);
  assert.deepEqual([dead.code, dead.error.type], [1, "session_dead"]);
  assert.match(dead.error.message, /session 'gone' dead .*pysh restart gone/);
  // Usage errors: exit 2.
  for (const args of [["put"], ["put", "w"], ["get", "w", "a", "b", "c"], ["put", "w", file, ""], ["put", "--via", "'ssh", "w", file], ["get", "--timeout", "0", "w", "x"], ["put", "--timeout", "soon", "w", file]]) {
    const r = await d.pysh(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^ERR usage: /);
  }
  const help = await d.pysh("put", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /usage: pysh put .*--force/);
  assert.match((await d.pysh("--help")).stdout, /put <session> LOCAL \[REMOTE\]/);
});

test("the locate op: the session's python and working directory; garbage gets bad_request", async (t) => {
  const { d, host } = await sessionIn(t);
  const ws = await d.ws(["pythond.json.1"]);
  t.after(() => ws.close());
  const ok = JSON.parse(await ws.ask(JSON.stringify({ id: 1, op: "locate", session: "w" })));
  assert.equal(ok.ok, true);
  assert.deepEqual([ok.result.where, ok.result.via, ok.result.cwd], ["local", [], host]);
  assert.ok(ok.result.python.startsWith("/"), ok.result.python);
  for (const [req, code] of [
    [{ id: 2, op: "locate" }, "bad_request"],
    [{ id: 3, op: "locate", session: 7 }, "bad_request"],
    [{ id: 4, op: "locate", session: ["w"] }, "bad_request"],
    [{ id: 5, op: "locate", session: "nosuch" }, "no_session"],
  ]) {
    const r = JSON.parse(await ws.ask(JSON.stringify(req)));
    assert.deepEqual([r.id, r.ok, r.error.code], [req.id, false, code], JSON.stringify(req));
  }
});

test("a remote tree listing that points outside the target, through a link, or is garbled is refused", () => {
  const ok = parseTreeListing([["d", "dir", 0o755, 0], ["d/f", "file", 0o644, 3, 10n ** 18n], ["l", "symlink", 0, "d/f"]]);
  assert.deepEqual(ok.map((e) => [e.rel, e.kind, e.size, e.mtimeNs, e.target]), [["d", "dir", 0, -1n, ""], ["d/f", "file", 3, 10n ** 18n, ""], ["l", "symlink", 0, -1n, "d/f"]]);
  const garbage = [
    "not a list",
    [["../escape", "file", 0o644, 1]],
    [["/etc/passwd", "file", 0o644, 1]],
    [["a/../../b", "file", 0o644, 1]],
    [["a//b", "file", 0o644, 1]],
    [["./a", "file", 0o644, 1]],
    [["", "file", 0o644, 1]],
    [["nul\0", "file", 0o644, 1]],
    [["l", "symlink", 0, "/etc"], ["l/passwd", "file", 0o644, 1]],
    [["f", "file", 0o644, 1], ["f", "file", 0o644, 1]],
    [["f", "file", 0o10000, 1]],
    [["f", "file", -1, 1]],
    [["f", "file", 0o644, -5]],
    [["f", "file", 0o644, "big"]],
    [["f", "file", 0o644, 1, "yesterday"]],
    [["f", "fifo", 0o644, 1]],
    [["l", "symlink", 0, ""]],
    [["f", "file"]],
    [42],
    [["x".repeat(5000), "file", 0o644, 1]],
  ];
  for (const g of garbage) assert.throws(() => parseTreeListing(g), /^Error: bad tree listing from the remote: /, JSON.stringify(g, (_k, v) => (typeof v === "bigint" ? String(v) : v)));
  assert.throws(() => parseTreeListing({ length: 2_000_000 }), /not a list/);
  assert.throws(() => parseTreeListing(new Array(1_000_001)), /more than 1000000 entries/);
});

test("progress goes to stderr only on a terminal; the result line is the only output otherwise", async (t) => {
  const { d, local } = await sessionIn(t);
  mkdirSync(local);
  const src = join(local, "tree");
  makeTree(src);
  const plain = await d.pysh("put", "w", src);
  assert.equal(plain.code, 0);
  assert.equal(plain.stderr, "", "no progress on a pipe");
  assert.match(plain.stdout, /^OK put .*tree -> .*host\/tree \(3 files, 7 changed, 97\.7 KiB sent\)\n$/);
  // Under script(1) stderr is a terminal: the progress line is drawn, then erased.
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN("pysh"))} put --force w ${JSON.stringify(src)} tree2`;
  const tty = execFileSync("script", ["-qec", cmd, "/dev/null"], { env: d.env, encoding: "utf8", cwd: ROOT });
  assert.match(tty, /put .*tree: \d\/3 files, .* of 97\.7 KiB \(\d+%\)/);
  assert.match(tty, /\r\x1b\[KOK put /, "the progress line is erased before the result");
});

const missing = sshdMissing();
if (missing) console.log(`# skipping put/get over ssh: ${missing}`);

test("put and get through ssh to the real sshd (--via): same tree, unchanged costs two calls", { skip: missing ?? false }, async (t) => {
  const { d, host, local } = await sessionIn(t);
  const sshd = await startSshd(d.dir);
  t.after(() => sshd.stop());
  mkdirSync(local);
  const src = join(local, "tree");
  makeTree(src);
  // The prefix as one word, as `pysh new --via` takes it (quoted words kept whole).
  const via = sshd.argv().map((w) => (w.includes("=") ? `'${w}'` : w)).join(" ");
  const up = await json(d, "put", "--json", "--via", via, "w", src);
  assert.equal(up.code, 0, JSON.stringify(up));
  assert.deepEqual([up.where, up.target, up.files], [via, join(host, "tree"), 3]);
  assert.deepEqual(snapshot(join(host, "tree")), snapshot(src));
  const again = await json(d, "put", "--json", "--via", via, "w", src);
  assert.deepEqual([again.changed, again.transferred, again.calls], [0, 0, 2]);
  const down = await json(d, "get", "--json", "--via", via, "w", "tree", join(local, "back"));
  assert.equal(down.code, 0, JSON.stringify(down));
  assert.deepEqual(snapshot(join(local, "back")), snapshot(src));
  const reget = await json(d, "get", "--json", "--via", via, "w", "tree", join(local, "back"));
  assert.deepEqual([reget.changed, reget.transferred, reget.calls], [0, 0, 2]);
  // A transport that cannot reach the host says so.
  const refused = await json(d, "put", "--json", "--via", via.replace(sshd.userKey, join(d.dir, "host_ed25519")), "w", src);
  assert.equal(refused.error.type, "connect");
  assert.match(refused.error.message, /cannot reach the host of session 'w'.*Permission denied/);
});

test("a session made with new --via takes put and get through its own prefix, relative to its cwd there", { skip: missing ?? false }, async (t) => {
  const { viaSetup } = await import("./helpers/via.mjs");
  const { d, remoteHome, via } = await viaSetup(t);
  const made = await d.pysh("new", "far", "--via", via);
  assert.equal(made.code, 0, made.stderr);
  const there = join(remoteHome, "work");
  mkdirSync(there);
  assert.equal((await d.pysh("run", "far", `import os; os.chdir(${JSON.stringify(there)})`)).code, 0);
  const src = join(d.dir, "tree");
  makeTree(src);
  const up = await json(d, "put", "--json", "far", src);
  assert.equal(up.code, 0, JSON.stringify(up));
  assert.match(up.where, /^ssh /);
  assert.equal(up.target, join(there, "tree"));
  assert.deepEqual(snapshot(join(there, "tree")), snapshot(src));
  // The session sees what was put, and get brings it back unchanged.
  assert.equal((await d.pysh("run", "far", "print(open('tree/a.txt').read(), end='')")).stdout, "alpha\n");
  const down = await json(d, "get", "--json", "far", "tree", join(d.dir, "back"));
  assert.equal(down.code, 0, JSON.stringify(down));
  assert.deepEqual(snapshot(join(d.dir, "back")), snapshot(src));
});
