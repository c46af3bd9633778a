// The MCP server: one table of tools (python_* and any published Tool methods) and the
// resources, on the official SDK's low-level Server so schemas are plain JSON (Tool files
// bring theirs from Python signatures). Transports (stdio, Streamable HTTP) are attached by
// the caller.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ReadResourceRequestSchema,
  McpError,
  ErrorCode,
} from "@modelcontextprotocol/sdk/types.js";
import { DaemonRequestError, ConnectError } from "../client/errors.js";
import { VERSION } from "../cli/version.js";
import { checkArgs } from "./args.js";
import type { McpTool } from "./python-tools.js";
import { text } from "./shape.js";
import { listResources, readResource, resourceTemplates } from "./resources.js";

const INSTRUCTIONS =
  "Persistent Python sessions: state survives between python_run calls. Long cells keep running past a call's budget: " +
  "continue with python_wait; stop one with python_interrupt. Cut output is whole in the resource pythond://sessions/<s>/cells/<id>.";

export function createServer(tools: McpTool[]): Server {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const server = new Server({ name: "pythond", version: VERSION }, { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS });

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const tool = byName.get(req.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${JSON.stringify(req.params.name)}`);
    const args = checkArgs(tool.name, tool.inputSchema, req.params.arguments);
    try {
      return await tool.call(args, extra);
    } catch (e) {
      if (e instanceof McpError) throw e;
      // Failures of the session (no such session, dead, cannot start) are results the agent
      // can act on, not protocol errors.
      const why = e instanceof DaemonRequestError ? `${e.code}: ${e.message}` : e instanceof ConnectError ? `cannot reach the daemon: ${e.message}` : (e as Error).message;
      return text(`${tool.name} failed: ${why}`, true);
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: await listResources() }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => readResource(req.params.uri));
  return server;
}
