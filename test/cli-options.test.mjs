// Unit test of the CLI's one option parser (src/cli/options.ts): options anywhere, "--",
// repeatable and optional values, refusals with the command's usage. The end-to-end
// behaviour through bin/pysh is in test/cli-args.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseArgs, seconds, sessionName } from "../dist/cli-options.js";

const NEW = { usage: "pysh new [--replace] [--python PATH] [--env K=V]... <session>", options: { "--replace": "flag", "--python": "value", "--env": "list" } };
const RUN = { usage: "pysh run [--json] [-t, --timeout S] <session> CODE...", options: { "--json": "flag", "-t, --timeout": "value" }, verbatimAfter: 1 };
const POLL = { usage: "pysh poll [--wait [S]] <session> [cell]", options: { "--wait": "seconds?" } };

const usageError = (re) => (e) => e.name === "UsageError" && re.test(e.message) && typeof e.usage === "string";

test("options before, between and after positionals; = and separate values; repeatable lists", () => {
  assert.deepEqual(parseArgs(["work", "--python", "/p", "--env", "A=1", "--replace", "--env=B=2"], NEW), {
    opts: { python: "/p", env: ["A=1", "B=2"], replace: true },
    args: ["work"],
  });
  assert.deepEqual(parseArgs(["--python=/q", "work"], NEW), { opts: { python: "/q" }, args: ["work"] });
  // The last value of a single-valued option wins.
  assert.equal(parseArgs(["--python", "a", "w", "--python", "b"], NEW).opts.python, "b");
});

test('"--" ends options; a lone "-" is a positional', () => {
  assert.deepEqual(parseArgs(["--", "-x", "--replace"], NEW), { opts: {}, args: ["-x", "--replace"] });
  assert.deepEqual(parseArgs(["-"], NEW), { opts: {}, args: ["-"] });
});

test("verbatimAfter: what follows the session is taken as is (code that looks like options)", () => {
  assert.deepEqual(parseArgs(["--json", "s", "--1", "-f", "--timeout"], RUN), { opts: { json: true }, args: ["s", "--1", "-f", "--timeout"] });
  assert.deepEqual(parseArgs(["-t", "5", "s", "x"], RUN), { opts: { timeout: "5" }, args: ["s", "x"] });
});

test("seconds?: a bare flag, an attached value, or a following plain number (a cell id is not one)", () => {
  assert.deepEqual(parseArgs(["--wait", "s"], POLL), { opts: { wait: true }, args: ["s"] });
  assert.deepEqual(parseArgs(["s", "--wait", "30"], POLL), { opts: { wait: 30 }, args: ["s"] });
  assert.deepEqual(parseArgs(["s", "--wait=2.5", "abc"], POLL), { opts: { wait: 2.5 }, args: ["s", "abc"] });
  assert.deepEqual(parseArgs(["s", "--wait", "123456789012"], POLL), { opts: { wait: true }, args: ["s", "123456789012"] });
  assert.throws(() => parseArgs(["s", "--wait=soon"], POLL), usageError(/--wait wants a number of seconds/));
});

test("help is always known; mistakes are UsageErrors naming the command and the option", () => {
  assert.equal(parseArgs(["work", "-h"], NEW).opts.help, true);
  assert.equal(parseArgs(["--help"], NEW).opts.help, true);
  assert.throws(() => parseArgs(["--bogus"], NEW), usageError(/^pysh new: unknown option --bogus$/));
  assert.throws(() => parseArgs(["-x"], NEW), usageError(/^pysh new: unknown option -x$/));
  assert.throws(() => parseArgs(["w", "--python"], NEW), usageError(/^pysh new: --python needs a value$/));
  assert.throws(() => parseArgs(["--replace=yes", "w"], NEW), usageError(/--replace takes no value/));
  assert.throws(() => parseArgs(["--timeout"], RUN), usageError(/^pysh run: --timeout needs a value$/));
});

test("seconds() and sessionName() validate values with the same kind of error", () => {
  assert.equal(seconds(undefined, "--grace", NEW.usage), undefined);
  assert.equal(seconds("2", "--grace", NEW.usage), 2);
  assert.throws(() => seconds("-1", "--grace", NEW.usage), usageError(/--grace wants seconds/));
  assert.throws(() => seconds("0", "--timeout", NEW.usage, { above: true }), usageError(/above 0/));
  assert.throws(() => seconds("1e9", "--grace", NEW.usage), usageError(/--grace/));
  assert.equal(sessionName("work", NEW.usage), "work");
  assert.throws(() => sessionName("-x", NEW.usage), usageError(/cannot begin with "-"/));
  assert.throws(() => sessionName(undefined, NEW.usage), usageError(/no session name/));
});
