// The Host and Origin checks of our HTTP servers (`pyctl web`, `pythond mcp --http`): a request
// must name this server in Host (a DNS-rebinding page's requests carry another name), and one
// made by a web page must come from this server's own origin (no cross-site requests).
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { networkInterfaces, hostname } from "node:os";
import type { HttpListen } from "./address.js";

function withPort(host: string, port: number, tls: boolean): string[] {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  const names = [`${h}:${port}`];
  if (port === (tls ? 443 : 80)) names.push(h); // browsers leave the default port out
  return names;
}

/** Every Host header value that names a server listening at addr on port (lowercase). */
export function allowedHosts(addr: HttpListen, port: number, tls: boolean): Set<string> {
  let hosts: string[];
  if (addr.loopback) hosts = ["127.0.0.1", "localhost", "::1", addr.host];
  else if (addr.host === "0.0.0.0" || addr.host === "::") {
    hosts = [hostname(), "localhost", ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))];
  } else hosts = [addr.host];
  return new Set(hosts.flatMap((h) => withPort(h.toLowerCase(), port, tls)));
}

export function hostAllowed(req: IncomingMessage, allowed: Set<string>): boolean {
  const host = req.headers.host;
  return typeof host === "string" && allowed.has(host.toLowerCase());
}

/** The Origin is this server's own (Host was checked first). Without one: `absent`. */
export function originAllowed(req: IncomingMessage, tls: boolean, { absent = false } = {}): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return absent;
  return typeof origin === "string" && origin.toLowerCase() === `${tls ? "https" : "http"}://${String(req.headers.host).toLowerCase()}`;
}
