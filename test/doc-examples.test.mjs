// Every example command in README.md and docs/*.md runs here, so the docs and the CLI cannot
// drift apart. The convention (also in docs/CONTRIBUTING.md):
//
//  - A ```sh block is a list of commands. Each line (a trailing "\" continues it) runs with
//    /bin/sh in a scratch working directory, with bin/ on PATH (`pysh`, `pyctl`, `pythond`,
//    also as `bin/pysh`), $REPO naming the checkout (for files a setup copies from it) and a
//    private HOME, XDG_RUNTIME_DIR and PYTHOND_SOCK; a daemon is
//    started for each file, and a file's blocks run in order against it, so a doc reads as one
//    session. Every command must exit 0 within 60 s.
//  - `# → TEXT` after a command is its output: TEXT must be one line of what it printed
//    (stdout and stderr, spaces at the ends ignored), where `…` (or a hex word ending in it,
//    like a cell id `3f…`) matches any text. TEXT beginning with `ERR` says the command fails:
//    exit 1, or 2 for `ERR usage:`. Any other comment is prose and is not checked.
//  - In a command, a hex word ending in `…` (`pysh poll --wait work 3f…`) stands for the last
//    cell id an earlier command printed.
//  - An HTML comment right before a block (invisible when the Markdown is rendered) changes it:
//      <!-- doctest: skip REASON -->                 the block does not run (a named ssh host,
//                                                    a benchmark of minutes); REASON is required
//      <!-- doctest: skip-lines "PREFIX" REASON -->  lines beginning with PREFIX do not run
//                                                    (e.g. "pysh attach": it needs a terminal)
//      <!-- doctest: setup
//      printf 'print("hi")\n' > task.py
//      -->                                           hidden lines run before the block
//  - A block without a language whose first line is a command (pysh, pyctl, pythond, node,
//    npm, bin/...) is refused: tag it ```sh (and skip it if it cannot run), or ```text for a
//    synopsis that is not a command.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { TestDaemon, ROOT } from "./helpers/daemon.mjs";

const COMMAND = /^(pysh|pyctl|pythond|node|npm|npx|bin\/)\b/;
const LINE_DEADLINE_MS = 60_000;

/** Fenced blocks of a Markdown file with the doctest directives written right before them. */
export function blocks(text) {
  const lines = text.split("\n");
  const found = [];
  let pending = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const directive = /^<!--\s*doctest:\s*(\S+)\s*([\s\S]*?)\s*(-->)?\s*$/.exec(line);
    if (directive) {
      let body = directive[2];
      if (!directive[3]) {
        // A multi-line directive (setup) runs to the closing -->.
        const rest = [];
        while (++i < lines.length && !/^\s*-->\s*$/.test(lines[i])) rest.push(lines[i]);
        body = [body, ...rest].filter((l) => l !== "").join("\n");
      }
      pending.push({ kind: directive[1], body, line: i + 1 });
      continue;
    }
    const fence = /^```(\S*)\s*$/.exec(line);
    if (fence) {
      const start = i + 1;
      const body = [];
      while (++i < lines.length && !/^```\s*$/.test(lines[i])) body.push(lines[i]);
      found.push({ lang: fence[1], line: start, lines: body, directives: pending });
      pending = [];
    } else if (line.trim()) pending = [];
  }
  return found;
}

/** Commands of a sh block: [{line, command, expect}], continuation lines joined. */
export function commands(block) {
  const out = [];
  for (let i = 0; i < block.lines.length; i++) {
    let text = block.lines[i];
    const line = block.line + i + 1;
    while (/\\\s*$/.test(text) && i + 1 < block.lines.length) text = text.replace(/\\\s*$/, " ") + block.lines[++i];
    if (!text.trim() || /^\s*#/.test(text)) continue;
    const at = commentStart(text);
    const comment = at < 0 ? "" : text.slice(at);
    const arrow = /^#\s*→\s*(.*)$/.exec(comment);
    out.push({ line, command: (at < 0 ? text : text.slice(0, at)).trim(), expect: arrow ? arrow[1].trim() : undefined });
  }
  return out;
}

/** Where a shell line's comment begins: the first "#" after a space and outside quotes, or -1. */
function commentStart(text) {
  let q = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === q) q = null;
      else if (c === "\\" && q === '"') i++;
    } else if (c === "'" || c === '"') q = c;
    else if (c === "\\") i++;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) return i;
  }
  return -1;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** `# → TEXT` as a regular expression for one whole (trimmed) line. */
export function expectation(text) {
  const parts = text.split(/[0-9a-f]*…/);
  return new RegExp(`^${parts.map(escape).join(".*")}$`);
}

function sh(command, env, cwd) {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), LINE_DEADLINE_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? `killed by ${signal} (over ${LINE_DEADLINE_MS / 1000} s?)` : code, output });
    });
  });
}

const CELL_ID = /"cell_id":\s*"([0-9a-f]{12})"|\bcell ([0-9a-f]{12})\b/g;

async function runFile(t, file) {
  const text = readFileSync(join(ROOT, file), "utf8");
  const all = blocks(text);
  for (const b of all) {
    if (b.lang === "" && b.lines.find((l) => l.trim()) && COMMAND.test(b.lines.find((l) => l.trim()).trim())) {
      assert.fail(`${file}:${b.line}: an untagged block of commands; tag it \`\`\`sh (and skip it if it cannot run) or \`\`\`text`);
    }
  }
  const runnable = all.filter((b) => b.lang === "sh");
  if (runnable.every((b) => b.directives.some((x) => x.kind === "skip"))) {
    for (const b of runnable) assert.ok(b.directives.find((x) => x.kind === "skip").body.length > 3, `${file}:${b.line}: "doctest: skip" needs a reason`);
    return;
  }
  const d = new TestDaemon();
  t.after(() => d.cleanup());
  const env = { ...d.env, PATH: `${join(ROOT, "bin")}:${process.env.PATH}`, REPO: ROOT };
  delete env.PYTHOND_NO_AUTOSTART; // as for a user: pysh starts a daemon if none answers
  d.env = env;
  const cwd = join(d.dir, "work");
  mkdirSync(cwd, { mode: 0o700 });
  symlinkSync(join(ROOT, "bin"), join(cwd, "bin"));
  await d.start();
  let lastCell;
  for (const b of runnable) {
    const skip = b.directives.find((x) => x.kind === "skip");
    if (skip) {
      assert.ok(skip.body.length > 3, `${file}:${b.line}: "doctest: skip" needs a reason`);
      continue;
    }
    const skipLines = b.directives
      .filter((x) => x.kind === "skip-lines")
      .map((x) => {
        const m = /^"([^"]+)"\s+(.{4,})$/.exec(x.body);
        assert.ok(m, `${file}:${x.line}: write: <!-- doctest: skip-lines "PREFIX" REASON -->`);
        return { prefix: m[1], used: false };
      });
    for (const x of b.directives) {
      assert.ok(["skip", "skip-lines", "setup"].includes(x.kind), `${file}:${x.line}: unknown doctest directive "${x.kind}"`);
      if (x.kind !== "setup") continue;
      for (const command of x.body.split("\n").filter((l) => l.trim())) {
        const r = await sh(command, env, cwd);
        assert.equal(r.code, 0, `${file}:${x.line}: setup line failed: ${command}\n${r.output}`);
      }
    }
    for (const c of commands(b)) {
      const s = skipLines.find((x) => c.command.startsWith(x.prefix));
      if (s) {
        s.used = true;
        continue;
      }
      const command = c.command.replace(/\b[0-9a-f]+…/g, () => {
        assert.ok(lastCell, `${file}:${c.line}: "…" stands for a cell id, but no command before printed one`);
        return lastCell;
      });
      const r = await sh(command, env, cwd);
      const where = `${file}:${c.line}: ${command}\n--- output ---\n${r.output}--- exit ${r.code}`;
      for (const m of r.output.matchAll(CELL_ID)) lastCell = m[1] ?? m[2];
      const wantsError = c.expect?.startsWith("ERR");
      const code = wantsError ? (c.expect.startsWith("ERR usage:") ? 2 : 1) : 0;
      assert.equal(r.code, code, `exit status ${r.code}, the doc implies ${code}: ${where}`);
      if (c.expect !== undefined) {
        const re = expectation(c.expect);
        assert.ok(r.output.split("\n").some((l) => re.test(l.trim())), `no output line is "${c.expect}": ${where}`);
      }
    }
    for (const s of skipLines) assert.ok(s.used, `${file}:${b.line}: skip-lines "${s.prefix}" matches no line of its block`);
  }
}

test("the conventions parse as documented", () => {
  const md = [
    "<!-- doctest: skip-lines \"pysh attach\" needs a terminal -->",
    "```sh",
    "pysh new w        # → OK w pid=…",
    "pysh run w 'x = \"#not a comment\"'   # prose",
    "pysh poll w \\",
    "  3f…             # → {\"cell_id\": \"3f…\", \"status\": \"done\"}",
    "# a comment line",
    "```",
    "text between",
    "<!-- doctest: setup",
    "printf 'x' > f",
    "-->",
    "```",
    "pysh ls",
    "```",
  ].join("\n");
  const [a, b] = blocks(md);
  assert.deepEqual([a.lang, a.directives.map((x) => [x.kind, x.body])], ["sh", [["skip-lines", '"pysh attach" needs a terminal']]]);
  assert.deepEqual([b.lang, b.directives.map((x) => [x.kind, x.body])], ["", [["setup", "printf 'x' > f"]]]);
  assert.deepEqual(commands(a).map((c) => [c.command, c.expect]), [
    ["pysh new w", "OK w pid=…"],
    ["pysh run w 'x = \"#not a comment\"'", undefined],
    ["pysh poll w    3f…", '{"cell_id": "3f…", "status": "done"}'],
  ]);
  assert.ok(expectation("OK w pid=…").test("OK w pid=4242"));
  assert.ok(!expectation("43").test("143"));
  assert.ok(expectation('{"cell_id": "3f…"}').test('{"cell_id": "0a1b2c3d4e5f"}'));
  // A directive followed by prose, not a block, applies to nothing.
  assert.deepEqual(blocks("<!-- doctest: skip why -->\nprose\n```sh\nls\n```").map((x) => x.directives.length), [0]);
});

const files = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
for (const file of files) test(`the examples of ${file} run as written`, (t) => runFile(t, file));
