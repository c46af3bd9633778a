// `pythond mcp --http 127.0.0.1:PORT`: the same server over Streamable HTTP at /mcp. Loopback
// only (plain HTTP never leaves the host), and every request must carry the daemon's token
// (Authorization: Bearer; ~/.pythond/token, re-read at every request so that `pyctl token
// --rotate` refuses the old one at once) and a Host naming this listener; a request from a
// browser page must come from this origin (DNS rebinding, cross-site pages).
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { secretsEqual } from "../tls/token.js";
import { parseHttpListen, AddressError, type HttpListen } from "../util/address.js";
import { allowedHosts, hostAllowed, originAllowed } from "../util/http-guard.js";
import { readBody } from "../util/http-body.js";

/** Larger request bodies get 413: a tool call is code plus a few fields. */
const MAX_BODY = 16 * 1024 * 1024;
const MAX_SESSIONS = 64;

/** `--http`: HOST:PORT on loopback only (plain HTTP would send the token in the clear). */
export function parseListen(spec: string): HttpListen {
  const addr = parseHttpListen(spec, "--http");
  if (!addr.loopback) throw new AddressError(`--http listens on loopback only (127.0.0.1, ::1, localhost): plain HTTP would send the token in the clear`);
  return addr;
}

function deny(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}

export async function serveHttp(listen: string, tokens: { current(): string }, newServer: () => Server): Promise<{ url: string; close(): Promise<void> }> {
  const addr = parseListen(listen);
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let hosts = new Set<string>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req, hosts)) return deny(res, 421, "Host header does not name this server");
    if (!originAllowed(req, false, { absent: true })) return deny(res, 403, "Origin not allowed");
    const auth = String(req.headers.authorization ?? "");
    if (!auth.startsWith("Bearer ") || !secretsEqual(auth.slice(7).trim(), tokens.current())) {
      return deny(res, 401, "missing or wrong token (Authorization: Bearer <the daemon's token>, see: pyctl token)", { "www-authenticate": 'Bearer realm="pythond-mcp"' });
    }
    if ((req.url ?? "").split("?")[0] !== "/mcp") return deny(res, 404, "the MCP endpoint is /mcp");
    let body: unknown;
    if (req.method === "POST") {
      const raw = await readBody(req, MAX_BODY);
      if (raw === null) return deny(res, 413, `request body over ${MAX_BODY} bytes`);
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        res.writeHead(400, { "content-type": "application/json" });
        return void res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32700, message: "Parse error: the body is not JSON" }, id: null }));
      }
    }
    const sid = req.headers["mcp-session-id"];
    let transport = typeof sid === "string" ? sessions.get(sid) : undefined;
    if (!transport) {
      if (sid !== undefined) return deny(res, 404, "unknown MCP session");
      if (req.method !== "POST" || !isInitializeRequest(body)) return deny(res, 400, "no MCP session: start with initialize");
      if (sessions.size >= MAX_SESSIONS) return deny(res, 503, `too many MCP sessions (${MAX_SESSIONS})`);
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, t),
      });
      t.onclose = () => {
        if (t.sessionId) sessions.delete(t.sessionId);
      };
      await newServer().connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res, body);
  }

  const http = createHttpServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) deny(res, 500, (e as Error).message);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(addr.port, addr.host, () => resolve());
  });
  const actual = (http.address() as { port: number }).port;
  const shown = addr.host.includes(":") ? `[${addr.host}]` : addr.host;
  hosts = allowedHosts(addr, actual, false);
  return {
    url: `http://${shown}:${actual}/mcp`,
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => {});
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
