// HOST:PORT as pythond 0.4 reads it (compat §9): `--listen` on the daemon, PYTHOND_HOST on
// clients. Split at the last ":" (so "::1:7399" is host ::1); "[::1]:7399" works too.
// And the stricter form of the HTTP servers beyond 0.4 (`pyctl web --listen`, `pythond mcp
// --http`): exactly HOST:PORT with an IP address or localhost.
import { isIP } from "node:net";
export const DEFAULT_PORT = 7984;

export interface Address {
  host: string;
  port: number;
}

export class AddressError extends Error {
  override name = "AddressError";
}

function envPort(): number {
  const v = process.env.PYTHOND_PORT;
  if (v === undefined || v === "") return DEFAULT_PORT;
  const n = Number(v);
  if (!/^\d{1,5}$/.test(v) || n < 1 || n > 65535) throw new AddressError(`invalid PYTHOND_PORT: ${v}`);
  return n;
}

function portOf(text: string, whole: string, what: string, min = 1): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < min || n > 65535) throw new AddressError(`invalid ${what}: ${whole}`);
  return n;
}

const HOST_RE = /^[A-Za-z0-9.\-_:%]{1,253}$/;

/**
 * The daemon's --listen: "H:P", ":P" or "P" (host 0.0.0.0), "[V6]:P", or "H" (port
 * PYTHOND_PORT). Port 0 (beyond 0.4) picks a free port; the start line names it.
 */
export function parseListen(value: string): Address {
  const what = "--listen";
  const port = (text: string, whole: string, w: string) => portOf(text, whole, w, 0);
  if (value.length > 300) throw new AddressError(`invalid ${what}: too long`);
  let host: string, p: number;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  if (/^\d+$/.test(value)) (host = "0.0.0.0"), (p = port(value, value, what));
  else if (bracketed) (host = bracketed[1]), (p = bracketed[2] === undefined ? envPort() : port(bracketed[2], value, what));
  else if (value.includes(":")) {
    const i = value.lastIndexOf(":");
    host = value.slice(0, i) || "0.0.0.0";
    p = port(value.slice(i + 1), value, what);
  } else (host = value), (p = envPort());
  if (!HOST_RE.test(host)) throw new AddressError(`invalid ${what}: ${value}`);
  return { host, port: p };
}

/** A client's PYTHOND_HOST: "HOST[:PORT]" (port PYTHOND_PORT by default); an empty host is an error. */
export function parseTarget(value: string, what = "PYTHOND_HOST"): Address {
  const port = portOf;
  if (value.length > 300) throw new AddressError(`invalid ${what}: too long`);
  let host = value,
    p: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1];
    if (bracketed[2] !== undefined) p = port(bracketed[2], value, what);
  } else if (value.includes(":")) {
    const i = value.lastIndexOf(":");
    host = value.slice(0, i);
    p = port(value.slice(i + 1), value, what);
  }
  if (!host) throw new AddressError(`invalid ${what}: ${JSON.stringify(value)} has no host`);
  if (!HOST_RE.test(host)) throw new AddressError(`invalid ${what}: ${value}`);
  return { host, port: p ?? envPort() };
}

/** 0.4's loopback set, exactly: only these may listen without TLS. */
export function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "localhost" || host === "::1";
}

/** One spelling per server address, the key of its pins: lowercase host, IPv6 in brackets. */
export function canonicalAddress(a: Address): string {
  const h = a.host.toLowerCase();
  return `${h.includes(":") ? `[${h}]` : h}:${a.port}`;
}

/** An HTTP server's listen address: {host, port, loopback}. */
export interface HttpListen extends Address {
  loopback: boolean;
}

/**
 * `pyctl web --listen` / `pythond mcp --http`: "HOST:PORT" or "[V6]:PORT", the host an IP
 * address or localhost (a name could resolve anywhere), port 0 for a free one. `what` names
 * the option in errors.
 */
export function parseHttpListen(text: string, what: string, example = "127.0.0.1:8765"): HttpListen {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!m) throw new AddressError(`${what} wants HOST:PORT (e.g. ${example}), got ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + "..." : text)}`);
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65535) throw new AddressError(`${what}: port ${port} is out of range (0-65535)`);
  if (m[1] !== undefined && isIP(host) !== 6) throw new AddressError(`${what}: [${host}] is not an IPv6 address`);
  if (host !== "localhost" && !isIP(host)) throw new AddressError(`${what} wants an IP address or localhost, got ${JSON.stringify(host)}`);
  return { host, port, loopback: isLoopback(host) };
}
