// Where the web page listens, and which Host headers name it (the DNS-rebinding guard).
import { isIP } from "node:net";
import { networkInterfaces, hostname } from "node:os";

export const DEFAULT_LISTEN = "127.0.0.1:8765";

export class ListenError extends Error {
  override name = "ListenError";
}

export interface ListenAddress {
  host: string;
  port: number;
  loopback: boolean;
}

export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/** "HOST:PORT" or "[V6]:PORT"; port 0 picks a free one. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!m) throw new ListenError(`--listen wants HOST:PORT (e.g. ${DEFAULT_LISTEN}), got ${JSON.stringify(text)}`);
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65535) throw new ListenError(`--listen: port ${port} is out of range (0-65535)`);
  if (m[1] !== undefined && isIP(host) !== 6) throw new ListenError(`--listen: [${host}] is not an IPv6 address`);
  if (host !== "localhost" && !isIP(host)) throw new ListenError(`--listen wants an IP address or localhost, got ${JSON.stringify(host)}`);
  return { host, port, loopback: isLoopback(host) };
}

function withPort(host: string, port: number, tls: boolean): string[] {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  const names = [`${h}:${port}`];
  if (port === (tls ? 443 : 80)) names.push(h); // browsers leave the default port out
  return names;
}

/** Every Host header value that names this server (lowercase). */
export function allowedHosts(addr: ListenAddress, port: number, tls: boolean): Set<string> {
  let hosts: string[];
  if (addr.loopback) hosts = ["127.0.0.1", "localhost", "::1", addr.host];
  else if (addr.host === "0.0.0.0" || addr.host === "::") {
    hosts = [hostname(), "localhost", ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))];
  } else hosts = [addr.host];
  return new Set(hosts.flatMap((h) => withPort(h.toLowerCase(), port, tls)));
}
