// `pythond mcp --tools FILE [--via CMD]`: Tool classes published as MCP tools, schemas from the
// Python signatures, called through the Tool SDK on a real python3.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { TestDaemon, ROOT, cli } from "./helpers/daemon.mjs";
import { mcpStdio, textOf } from "./helpers/mcp-client.mjs";

const FILE = join(ROOT, "test", "fixtures", "tools", "mcp_tools.py");
let d;
let c;
before(async () => {
  d = new TestDaemon();
  await d.start();
  c = await mcpStdio(d.env, ["--tools", FILE]);
});
after(async () => {
  await c?.close();
  await d?.cleanup();
});

test("each public method of each Tool class is a tool with a schema from its signature and its docstring", async () => {
  const { tools } = await c.listTools();
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  for (const n of ["Geometry_distance", "Geometry_scale", "Geometry_where", "Geometry_fail", "Geometry_count"]) assert.ok(byName[n], n);
  assert.equal(byName.Geometry__private, undefined);
  assert.ok(byName.python_run, "the python_* tools are still there");
  const scale = byName.Geometry_scale;
  assert.match(scale.description, /^Scale every value by factor\./);
  assert.deepEqual(scale.inputSchema, {
    type: "object",
    properties: {
      values: { type: "array", items: { type: "integer" } },
      factor: { type: "integer", default: 2 },
      mode: { enum: ["mul", "add"], default: "mul" },
    },
    required: ["values"],
    additionalProperties: false,
  });
  const point = byName.Geometry_distance.inputSchema.properties.a;
  assert.deepEqual(point, { type: "object", properties: { x: { type: "number" }, y: { type: "number" } }, required: ["x"], description: "A point on the plane." });
  assert.deepEqual(byName.Geometry_where.inputSchema.properties.label, { anyOf: [{ type: "string" }, { type: "null" }], default: null });
});

test("calling them runs the methods on python3 through the Tool SDK", async () => {
  let r = await c.callTool({ name: "Geometry_scale", arguments: { values: [1, 2, 3], mode: "add", factor: 10 } });
  assert.deepEqual(JSON.parse(textOf(r)), [11, 12, 13]);
  r = await c.callTool({ name: "Geometry_distance", arguments: { a: { x: 0, y: 0 }, b: { x: 3, y: 4 } } });
  assert.equal(JSON.parse(textOf(r)), 5);
  r = await c.callTool({ name: "Geometry_count", arguments: { n: 4 } });
  assert.deepEqual(JSON.parse(textOf(r)), [0, 1, 2, 3]);
  const first = JSON.parse(textOf(await c.callTool({ name: "Geometry_where", arguments: { label: "a" } })));
  const second = JSON.parse(textOf(await c.callTool({ name: "Geometry_where", arguments: {} })));
  assert.equal(first.label, "a");
  assert.equal(second.label, null);
  assert.equal(first.pid, second.pid, "one remote serves every call");
  r = await c.callTool({ name: "Geometry_fail", arguments: { why: "no good" } });
  assert.equal(r.isError, true);
  assert.match(textOf(r), /^ValueError: no good\n/);
  assert.match(textOf(r), /mcp_tools\.py", line \d+, in fail/);
  await assert.rejects(c.callTool({ name: "Geometry_scale", arguments: { values: ["x"] } }), /"values" item 0 must be an integer/);
  await assert.rejects(c.callTool({ name: "Geometry_scale", arguments: { values: [1], mode: "div" } }), /"mode" must be one of/);
});

test("--via runs the tools through a command prefix", async () => {
  const v = await mcpStdio(d.env, ["--tools", FILE, "--via", "env PYTHOND_VIA_TEST=1"]);
  try {
    const r = await v.callTool({ name: "Geometry_where", arguments: {} });
    const { pid } = JSON.parse(textOf(r));
    const environ = await import("node:fs").then((fs) => fs.readFileSync(`/proc/${pid}/environ`, "latin1"));
    assert.ok(environ.split("\0").includes("PYTHOND_VIA_TEST=1"));
  } finally {
    await v.close();
  }
});

test("with no daemon running, pythond mcp starts one in the background", async () => {
  const fresh = new TestDaemon();
  delete fresh.env.PYTHOND_NO_AUTOSTART;
  const m = await mcpStdio(fresh.env);
  try {
    const r = await m.callTool({ name: "python_run", arguments: { code: "6 * 7" } });
    assert.equal(textOf(r), "42");
    assert.ok(fresh.ourPids().length >= 2, "a daemon and its session agent");
  } finally {
    await m.close();
    await fresh.cleanup();
  }
});

test("bad command lines fail with usage errors", async () => {
  let r = await cli(d.env, "pythond", ["mcp", "--via", "ssh x"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--via needs --tools/);
  r = await cli(d.env, "pythond", ["mcp", "--tools", join(ROOT, "test", "fixtures", "seed_example.py"), "--bogus"]);
  assert.equal(r.code, 2);
  r = await cli(d.env, "pythond", ["mcp", "--tools", join(ROOT, "no-such-file.py")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no-such-file\.py/);
  r = await cli(d.env, "pythond", ["mcp", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /python_run/);
});
