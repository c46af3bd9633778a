// Rich outputs through MCP, in a session on Debian's python3 (python3-matplotlib and
// python3-pil): figures (value, plt.show(), display()), PIL images, _repr_png_ and
// _repr_mimebundle_ as image content; _repr_markdown_ / _repr_html_ as text parts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { TestDaemon } from "./helpers/daemon.mjs";
import { mcpStdio, textOf } from "./helpers/mcp-client.mjs";

const PY = "/usr/bin/python3";
let d;
let c;
before(async () => {
  const env = { PYTHOND_MCP_MAX_IMAGE: "20000" };
  d = new TestDaemon(env);
  delete d.env.DISPLAY; // an agent without a display: matplotlib must not try a GUI backend
  delete d.env.WAYLAND_DISPLAY;
  delete d.env.MPLBACKEND;
  await d.start();
  c = await mcpStdio(d.env);
  const r = await c.callTool({ name: "python_new", arguments: { session: "plots", python: PY } });
  assert.match(textOf(r), /created plots/);
});
after(async () => {
  await c?.close();
  await d?.cleanup();
});

const run = (code) => c.callTool({ name: "python_run", arguments: { code, session: "plots" } });
const images = (r) => r.content.filter((x) => x.type === "image");

/** Width and height from a PNG's IHDR chunk. */
function pngSize(b64) {
  const b = Buffer.from(b64, "base64");
  assert.equal(b.subarray(0, 8).toString("hex"), "89504e470d0a1a0a", "PNG signature");
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

test("a matplotlib figure as the value, through plt.show() and display() arrives as an image", async () => {
  let r = await run("import matplotlib\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 1), dpi=50)\nax.plot([1, 3, 2])\nfig");
  assert.equal(r.isError, undefined, textOf(r));
  assert.equal(images(r).length, 1);
  assert.equal(images(r)[0].mimeType, "image/png");
  assert.deepEqual(pngSize(images(r)[0].data), [100, 50]);

  // plt.show() shows every open figure (fig included), then closes them as a GUI window would.
  r = await run("plt.figure(figsize=(1, 1), dpi=40)\nplt.plot([0, 1])\nplt.show()\nprint(matplotlib.get_backend())");
  assert.equal(images(r).length, 2, textOf(r));
  assert.deepEqual(pngSize(images(r)[1].data), [40, 40]);
  assert.match(textOf(r), /^agg$/m);
  assert.equal(textOf(await run("len(plt.get_fignums())")), "0");

  r = await run("display(fig)\n'after'");
  assert.equal(images(r).length, 1);
  assert.match(textOf(r), /\[value\] after/);
});

test("PIL images, _repr_png_ and a mimebundle's image/png are images; a large one is a resource link", async () => {
  let r = await run("from PIL import Image\nImage.new('RGB', (7, 3), 'red')");
  assert.deepEqual(pngSize(images(r)[0].data), [7, 3]);
  r = await run("import io\nclass P:\n    def _repr_png_(self):\n        b = io.BytesIO(); Image.new('L', (5, 5)).save(b, 'PNG'); return b.getvalue()\nP()");
  assert.deepEqual(pngSize(images(r)[0].data), [5, 5]);
  r = await run("import base64\nclass B:\n    def _repr_mimebundle_(self, include=None, exclude=None):\n        b = io.BytesIO(); Image.new('L', (6, 2)).save(b, 'PNG')\n        return {'image/png': base64.b64encode(b.getvalue()).decode(), 'text/plain': 'B'}\nB()");
  assert.deepEqual(pngSize(images(r)[0].data), [6, 2]);
  // Over the inline cap (20000 bytes here): a link to the image resource, read back whole.
  r = await run("import os\nImage.frombytes('RGB', (200, 200), os.urandom(200 * 200 * 3))");
  assert.equal(images(r).length, 0);
  const link = r.content.find((x) => x.type === "resource_link");
  assert.ok(link, JSON.stringify(r.content));
  assert.match(link.uri, /^pythond:\/\/sessions\/plots\/cells\/[0-9a-f]{12}\/images\/0$/);
  const res = await c.readResource({ uri: link.uri });
  assert.deepEqual(pngSize(res.contents[0].blob), [200, 200]);
});

test("_repr_markdown_, _repr_html_ and mimebundle text become text parts", async () => {
  const r = await run(
    "class M:\n    def _repr_markdown_(self): return '# Title'\n" +
      "class H:\n    def _repr_html_(self): return '<b>bold</b>'\n" +
      "class T:\n    def _repr_mimebundle_(self, include=None, exclude=None): return {'text/markdown': '*em*', 'text/plain': 'T'}\n" +
      "display(H(), T())\nM()",
  );
  const texts = r.content.filter((x) => x.type === "text").map((x) => x.text);
  assert.deepEqual(texts.slice(1), ["<b>bold</b>", "*em*", "# Title"]);
});
