// An MCP client of `bin/pythond mcp` through the SDK's own Client: stdio (the server is spawned
// with the test daemon's private HOME, XDG_RUNTIME_DIR and PYTHOND_SOCK) or Streamable HTTP.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { BIN } from "./daemon.mjs";

export async function mcpStdio(env, args = []) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN("pythond"), "mcp", ...args], env, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (c) => (stderr = (stderr + c).slice(-8192)));
  const client = new Client({ name: "pythond-test", version: "1" });
  await client.connect(transport);
  client.stderrText = () => stderr;
  return client;
}

export async function mcpHttp(url, token, headers = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers } },
  });
  const client = new Client({ name: "pythond-test", version: "1" });
  await client.connect(transport);
  return client;
}

/** The text parts of a tool result, joined. */
export const textOf = (r) => r.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
