// `pythond mcp`: assemble the tools (python_* and any --tools files), then serve them over
// stdio (the default: the client spawns us) or Streamable HTTP (--http).
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { readConfig } from "./config.js";
import { pythonTools, type McpTool } from "./python-tools.js";
import { ToolFiles } from "./tool-files.js";
import { createServer } from "./server.js";
import { closeDaemon } from "./connection.js";
import { serveHttp } from "./http.js";
import { daemonTokenSource, tokenPath } from "../tls/token.js";

/** Largest JSON-RPC message read from stdin (the same cap as an HTTP body); past it the
 * transport closes and the server ends, saying why. */
const MAX_STDIO_MESSAGE = 16 * 1024 * 1024;

export interface McpOptions {
  http?: string;
  tools: string[];
  via?: string;
  session?: string;
}

export async function serveMcp(opts: McpOptions): Promise<number> {
  const cfg = readConfig(process.env, opts.session);
  const tools: McpTool[] = pythonTools(cfg);
  const files = new ToolFiles(opts.via ? opts.via.trim().split(/\s+/) : [], cfg);
  for (const file of opts.tools) tools.push(...(await files.publish(file)));
  const names = new Set<string>();
  for (const t of tools) {
    if (names.has(t.name)) throw new Error(`two tools are named ${t.name}: rename a class or method`);
    names.add(t.name);
  }
  let endStdio = () => {};
  const ended = new Promise<void>((resolve) => {
    endStdio = resolve;
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
    if (!opts.http) process.stdin.once("end", resolve).once("close", resolve);
  });
  let closeHttp: (() => Promise<void>) | undefined;
  if (opts.http) {
    const h = await serveHttp(opts.http, daemonTokenSource(), () => createServer(tools));
    closeHttp = h.close;
    process.stderr.write(`pythond mcp: serving ${h.url} (the daemon's token, ${tokenPath()}: pyctl token)\n`);
  } else {
    const transport = new StdioServerTransport(process.stdin, process.stdout, { maxBufferSize: MAX_STDIO_MESSAGE });
    const server = createServer(tools);
    server.onerror = (e) => process.stderr.write(`pythond mcp: ${e.message}\n`);
    server.onclose = endStdio;
    await server.connect(transport);
  }
  await ended;
  await closeHttp?.();
  await files.close();
  closeDaemon();
  // A daemon connection with a cell still streaming may take its time to close; the client
  // is gone, so do not wait for it.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}
