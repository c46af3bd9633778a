// `--listen`: everything the daemon needs to be reached over TCP, set up in one place — the
// address rules (non-loopback means TLS, as 0.4), the certificate, the persisted token, the
// listener, and the start lines 0.4's users know (compat §9).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { parseListen, isLoopback, AddressError } from "../util/address.js";
import { daemonTokenSource } from "../tls/token.js";
import { ensureMachineCert } from "../tls/cert.js";
import { sshForm } from "../tls/fingerprint.js";
import { startTcpListener, type TcpListener } from "./tcp-listener.js";
import { FailureThrottle, type Gate } from "./auth.js";
import type { AccessLog } from "./access-log.js";

export interface ListenOptions {
  listen: string;
  tls?: boolean;
  showToken?: boolean;
}

export interface RemoteAccess {
  listener: TcpListener;
  gate: Gate;
}

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new AddressError(`${name} must be a number from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return n;
}

export async function startRemoteAccess(
  o: ListenOptions,
  log: AccessLog,
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, peer: string, ip: string) => void,
): Promise<RemoteAccess> {
  const addr = parseListen(o.listen);
  const forced = !o.tls && !isLoopback(addr.host);
  const tls = o.tls || forced;
  const cert = tls ? await ensureMachineCert() : undefined;
  const tokens = daemonTokenSource();
  const token = tokens.current();
  const gate: Gate = { tokens, throttle: new FailureThrottle(), log };
  const listener = await startTcpListener({
    host: addr.host,
    port: addr.port,
    cert,
    log,
    maxConnections: envNumber("PYTHOND_MAX_TLS_BRIDGE_THREADS", 256, 1, 65536),
    tlsTimeoutMs: envNumber("PYTHOND_TLS_BRIDGE_IO_TIMEOUT", 10, 0.1, 3600) * 1000,
    upgrade,
  });
  const lines = [`pythond pid=${process.pid} ${listener.url} mode=pty auth=${listener.auth}`];
  if (forced) lines.push(`tls: on (required for a non-loopback listener)`);
  lines.push(o.showToken ? `token=${token}` : `auth=token (use --show-token to print it; or: pyctl token)`);
  if (cert) {
    lines.push(`fingerprint=${cert.fingerprint}`);
    lines.push(`pin it on a client: pyctl pin HOST:${listener.port} --expect ${sshForm(cert.fingerprint)}`);
  }
  if (listener.auth === "mtls") lines.push(`mtls: ${listener.trustedClients} trusted client cert(s)`);
  process.stderr.write(lines.join("\n") + "\n");
  return { listener, gate };
}
