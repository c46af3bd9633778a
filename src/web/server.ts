// The web page's server: plain HTTP on loopback (HTTPS with --tls, required elsewhere), the
// page and its bundled files, the token-for-cookie exchange, and the WebSocket of the bridge.
// Every request passes the Host check; the page and its WebSocket need the cookie; the
// WebSocket and the exchange need the page's own Origin. The token is never logged: it
// travels in the URL fragment (never sent by a browser) and in the body of POST /auth.
import { createServer as createHttp, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import { createServer as createHttps } from "node:https";
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { WebSocketServer } from "ws";
import { AccessLog } from "../daemon/access-log.js";
import { runtimeDir } from "../util/paths.js";
import { loadAssets, PUBLIC_ASSETS, type Asset } from "./assets.js";
import { securityHeaders } from "./csp.js";
import { signedIn, sessionCookie, cookieValue } from "./guard.js";
import { allowedHosts, hostAllowed, originAllowed } from "../util/http-guard.js";
import { readBody } from "../util/http-body.js";
import type { HttpListen } from "../util/address.js";
import { loginPage, appPage } from "./pages.js";
import { secretsEqual, TOKEN_RE } from "../tls/token.js";
import { Bridge, MAX_KEYS_FRAME } from "./bridge.js";

/** Largest body of POST /auth ({"token":"<32 hex>"} is 45 bytes). */
const MAX_AUTH_BODY = 1024;
const HEADERS_TIMEOUT_MS = 10_000;
const KEEPALIVE_MS = 20_000;

export interface WebOptions {
  listen: HttpListen;
  /** The daemon's token, read afresh each request: a rotated token signs every browser out. */
  tokens: { current(): string };
  /** PEM certificate and key: serve HTTPS (required off loopback). */
  tls?: { cert: Buffer; key: Buffer };
  /** The daemon's socket (default: as every client finds it). */
  socket?: string;
  /** Where the access log goes (default: the daemon's runtime dir, beside its own lines). */
  logDir?: string;
}

export interface WebServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

function peerOf(req: IncomingMessage): string {
  const s = req.socket;
  return s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : "";
}

/** The path alone: a query string is never logged (nothing secret belongs there, but be sure). */
function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? "/";
  const q = raw.search(/[?#]/);
  return (q >= 0 ? raw.slice(0, q) : raw).slice(0, 200);
}

function reply(res: ServerResponse, status: number, body: string | Buffer, type = "text/plain; charset=utf-8", extra: Record<string, string> = {}, nonce?: string): void {
  res.writeHead(status, { ...securityHeaders(nonce), "content-type": type, "content-length": String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/** {"token":"<32 hex>"} and nothing else, or undefined. */
export function parseAuthBody(body: Buffer): string | undefined {
  try {
    const v = JSON.parse(body.toString("utf8"));
    if (typeof v !== "object" || v === null || Array.isArray(v) || Object.keys(v).length !== 1) return undefined;
    return typeof v.token === "string" && TOKEN_RE.test(v.token) ? v.token : undefined;
  } catch {
    return undefined;
  }
}

export async function startWebServer(opts: WebOptions): Promise<WebServer> {
  const assets: Map<string, Asset> = loadAssets();
  const log = new AccessLog(opts.logDir ?? runtimeDir(), false);
  const tls = opts.tls !== undefined;
  const cookie = () => cookieValue(opts.tokens.current());
  let allowed = new Set<string>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    if (!hostAllowed(req, allowed)) {
      reply(res, 403, "pythond web: this Host is not the server's address (DNS-rebinding guard); open the URL pyctl web printed\n");
      return 403;
    }
    const path = pathOf(req);
    if (req.method === "POST" && path === "/auth") {
      if (!originAllowed(req, tls)) return reply(res, 403, "cross-origin sign-in refused\n"), 403;
      const body = await readBody(req, MAX_AUTH_BODY);
      const token = body ? parseAuthBody(body) : undefined;
      if (token === undefined) return reply(res, 400, 'sign-in wants {"token":"<32 hex digits>"}\n'), 400;
      const current = opts.tokens.current();
      if (!secretsEqual(token, current)) return reply(res, 401, "wrong token\n"), 401;
      reply(res, 204, "", undefined, { "set-cookie": sessionCookie(cookieValue(current), tls) });
      return 204;
    }
    if (req.method !== "GET" && req.method !== "HEAD") return reply(res, 405, "method not allowed\n", undefined, { allow: "GET, HEAD, POST" }), 405;
    const ok = signedIn(req, cookie());
    if (path === "/") {
      if (!ok) return reply(res, 401, loginPage(), "text/html; charset=utf-8"), 401;
      const nonce = randomBytes(16).toString("base64");
      reply(res, 200, appPage(nonce, "pythond"), "text/html; charset=utf-8", {}, nonce);
      return 200;
    }
    const asset = assets.get(path);
    if (!asset) return reply(res, 404, "not found\n"), 404;
    if (!ok && !PUBLIC_ASSETS.has(path)) return reply(res, 401, "sign in first: open the URL pyctl web printed\n"), 401;
    reply(res, 200, asset.body, asset.type);
    return 200;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).then(
      (status) => log.write({ event: "web-request", peer: peerOf(req), cmd: req.method, detail: pathOf(req), status: String(status) }),
      () => res.destroy(),
    );
  };
  const server: Server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createHttp(onRequest);
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = 30_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_KEYS_FRAME, perMessageDeflate: false });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const peer = peerOf(req);
    const refuse = (status: number, text: string) => {
      log.write({ event: "web-upgrade", peer, detail: pathOf(req), status: String(status) });
      refuseUpgrade(socket, status, text);
    };
    if (!hostAllowed(req, allowed)) return refuse(403, "Forbidden");
    if (pathOf(req) !== "/ws") return refuse(404, "Not Found");
    if (!originAllowed(req, tls)) return refuse(403, "Forbidden");
    if (!signedIn(req, cookie())) return refuse(401, "Unauthorized");
    wss.handleUpgrade(req, socket, head, (ws) => {
      log.write({ event: "web-connect", peer, status: "ok" });
      ws.on("error", () => {});
      // A browser that stopped answering (a laptop closed) is dropped; its page reconnects later.
      let alive = true;
      ws.on("pong", () => (alive = true));
      const keepalive = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.ping();
      }, KEEPALIVE_MS);
      ws.on("close", () => clearInterval(keepalive));
      new Bridge(ws, { socket: opts.socket, log, peer });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  allowed = allowedHosts(opts.listen, port, tls);
  const wildcard = opts.listen.host === "0.0.0.0" || opts.listen.host === "::";
  const shown = wildcard ? hostname() : opts.listen.host.includes(":") ? `[${opts.listen.host}]` : opts.listen.host;
  const url = `${tls ? "https" : "http"}://${shown}:${port}/`;
  return {
    url,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.close(1001, "server stopping");
        server.close(() => resolve());
        server.closeAllConnections?.();
        log.flush();
      }),
  };
}
