// MCP round trip (issue 14): python_run of `1` through `pythond mcp` (the SDK's MCP client over
// stdio), beside a one-shot `pysh run s 1` and the SDK Client on an open connection, in one
// run against one daemon, interleaved in rounds so the machine's drift hits all three alike.
//   node bench/mcp-bench.mjs [--quick]
import { spawnSync } from "node:child_process";
import { TestDaemon, BIN } from "../test/helpers/daemon.mjs";
import { mcpStdio } from "../test/helpers/mcp-client.mjs";
import { Client } from "../dist/index.js";
import { median } from "./stats.mjs";

const quick = process.argv.includes("--quick");
const rounds = quick ? 10 : 40;
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
const since = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

const d = new TestDaemon();
await d.start();
try {
  const sdk = await Client.connect({ socket: d.sock, autostart: false });
  await sdk.request("new", { session: "mcp" });
  const mcp = await mcpStdio(d.env);
  const t = { mcp: [], sdk: [], pysh: [] };
  const startMcp = process.hrtime.bigint();
  const cold = await mcpStdio(d.env); // server start to first result, once
  await cold.callTool({ name: "python_run", arguments: { code: "1" } });
  const mcpStart = since(startMcp);
  await cold.close();
  for (let i = 0; i < 5; i++) await mcp.callTool({ name: "python_run", arguments: { code: "1" } }); // warm-up
  for (let i = 0; i < rounds; i++) {
    let t0 = process.hrtime.bigint();
    const r = await mcp.callTool({ name: "python_run", arguments: { code: "1" } });
    t.mcp.push(since(t0));
    if (r.content[0].text !== "1") throw new Error(`unexpected result ${JSON.stringify(r)}`);
    t0 = process.hrtime.bigint();
    await sdk.run("mcp", "1");
    t.sdk.push(since(t0));
    t0 = process.hrtime.bigint();
    const p = spawnSync(process.execPath, [BIN("pysh"), "run", "mcp", "1"], { env: d.env, stdio: ["ignore", "pipe", "pipe"] });
    t.pysh.push(since(t0));
    if (p.status !== 0) throw new Error(`pysh failed: ${p.stderr}`);
  }
  await mcp.close();
  sdk.close();
  console.log(`run of "1", n = ${rounds} each, interleaved (ms):`);
  console.log("| path | median | p90 |\n|---|---|---|");
  for (const [name, label] of [["mcp", "MCP python_run (stdio, open session)"], ["pysh", "pysh run one-shot (process start included)"], ["sdk", "SDK Client.run (open connection)"]]) {
    console.log(`| ${label} | ${median(t[name]).toFixed(2)} | ${p90(t[name]).toFixed(2)} |`);
  }
  console.log(`pythond mcp start to first python_run result: ${mcpStart.toFixed(0)} ms (once)`);
} finally {
  await d.cleanup();
}
