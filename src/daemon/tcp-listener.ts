// The TCP listener beside the Unix socket (`--listen HOST:PORT [--tls]`): plain ws:// on a
// loopback host (0.4's SSH-tunnel mode), TLS 1.2+ on any other host or with --tls, the token
// always (auth.ts), and mTLS when trusted_clients/ holds a fingerprint (compat §2, §11).
// Node's TLS runs in the daemon itself, so the access log sees the real peer (0.4 logged
// its internal loopback bridge, §14.19).
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import { statSync } from "node:fs";
import type { AccessLog } from "./access-log.js";
import { fingerprintSet, trustedClientsDir } from "../tls/trust-store.js";
import { fingerprintOf, matchesAny } from "../tls/fingerprint.js";
import type { MachineCert } from "../tls/cert.js";

/** The WebSocket opening handshake must be done this soon after the connection (as 0.4). */
const UPGRADE_TIMEOUT_MS = 2000;
/** The first byte of a TLS handshake record. */
const TLS_HANDSHAKE = 0x16;

export interface TcpListenerOptions {
  host: string;
  port: number;
  /** The certificate to serve; no TLS without one. */
  cert?: MachineCert;
  log: AccessLog;
  /** Open connections at most (0.4: PYTHOND_MAX_TLS_BRIDGE_THREADS, 256); more are dropped. */
  maxConnections: number;
  /** TLS handshake deadline (0.4: PYTHOND_TLS_BRIDGE_IO_TIMEOUT, 10 s). */
  tlsTimeoutMs: number;
  /** Hands a WebSocket upgrade to the daemon; `peer` is "host:port" of the real client. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, peer: string, ip: string): void;
}

export interface TcpListener {
  url: string;
  port: number;
  /** At start: "mtls" when trusted client certificates exist, else "token". */
  auth: "token" | "mtls";
  trustedClients: number;
  close(): void;
}

export function peerOf(s: Socket): { peer: string; ip: string } {
  const ip = s.remoteAddress ?? "";
  if (!ip) return { peer: "-", ip: "-" };
  return { peer: `${ip.includes(":") ? `[${ip}]` : ip}:${s.remotePort}`, ip };
}

/** Trusted client fingerprints, re-read when the directory changes (pyctl trust/untrust take effect at once). */
class TrustedClients {
  private stamp = "";
  private set = new Set<string>();
  current(): Set<string> {
    const dir = trustedClientsDir();
    let stamp = "";
    try {
      const st = statSync(dir);
      stamp = `${st.ino}:${st.mtimeMs}`;
    } catch {
      /* no directory: no trusted clients */
    }
    if (stamp !== this.stamp) {
      this.stamp = stamp;
      this.set = stamp ? fingerprintSet(dir, (m) => process.stderr.write(m + "\n")) : new Set();
    }
    return this.set;
  }
}

export async function startTcpListener(o: TcpListenerOptions): Promise<TcpListener> {
  const trusted = new TrustedClients();
  const tls = o.cert !== undefined;
  const upgradeTimers = new WeakMap<object, NodeJS.Timeout>();
  let open = 0;

  const web: HttpServer = tls
    ? createHttpsServer({
        key: o.cert!.key,
        cert: o.cert!.cert,
        minVersion: "TLSv1.2",
        // Always ask: whether a certificate is required is decided per connection, from the
        // store as it is now.
        requestCert: true,
        rejectUnauthorized: false,
        handshakeTimeout: o.tlsTimeoutMs,
      })
    : createHttpServer();
  web.on("request", (_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("pythond speaks WebSocket only\n");
  });
  web.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    clearTimeout(upgradeTimers.get(socket));
    const { peer, ip } = peerOf(socket as Socket);
    o.upgrade(req, socket, head, peer, ip);
  });
  const armUpgradeTimer = (s: Socket) => {
    const timer = setTimeout(() => s.destroy(), UPGRADE_TIMEOUT_MS);
    upgradeTimers.set(s, timer);
    s.once("close", () => clearTimeout(timer));
  };
  if (tls) {
    web.on("secureConnection", (s: TLSSocket) => {
      const { peer } = peerOf(s);
      const fps = trusted.current();
      if (fps.size) {
        const raw = s.getPeerCertificate()?.raw;
        const fp = raw ? fingerprintOf(raw) : "";
        if (!fp || !matchesAny(fp, fps)) {
          o.log.write({ event: "tls", peer, status: "rejected", detail: fp ? "untrusted-client-certificate" : "no-client-certificate" });
          o.log.write({ event: "mtls", peer, status: "rejected" });
          s.destroy();
          return;
        }
        o.log.write({ event: "mtls", peer, status: "ok" });
      }
      o.log.write({ event: "tls", peer, status: "accepted" });
      armUpgradeTimer(s);
    });
    web.on("tlsClientError", (err: NodeJS.ErrnoException, s: TLSSocket) => {
      o.log.write({ event: "tls", peer: peerOf(s).peer, status: "rejected", detail: err.code ?? err.message });
    });
  }

  // The front door: counts connections, and on a TLS port answers a plain HTTP client in
  // words (a TLS server would only drop it) so that `pysh` can say what to fix.
  const front: NetServer = createNetServer((s: Socket) => {
    if (open >= o.maxConnections) {
      o.log.write({ event: "tls", peer: peerOf(s).peer, status: "capacity-drop", detail: "bridge-thread-limit" });
      s.destroy();
      return;
    }
    open++;
    s.once("close", () => open--);
    s.on("error", () => {});
    if (!tls) {
      armUpgradeTimer(s);
      web.emit("connection", s);
      return;
    }
    const first = setTimeout(() => s.destroy(), o.tlsTimeoutMs);
    s.once("data", (d: Buffer) => {
      clearTimeout(first);
      s.pause();
      if (d[0] !== TLS_HANDSHAKE) {
        o.log.write({ event: "tls", peer: peerOf(s).peer, status: "rejected", detail: "not-tls" });
        s.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 54\r\n\r\npythond: this port speaks TLS (wss://, PYTHOND_TLS=1)\n");
        return;
      }
      // Back where it came from: the TLS socket reads what is buffered first.
      s.unshift(d);
      web.emit("connection", s);
    });
    s.once("close", () => clearTimeout(first));
  });

  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen({ host: o.host, port: o.port }, () => {
      front.off("error", reject);
      resolve();
    });
  });
  const port = (front.address() as { port: number }).port;
  const shown = o.host.includes(":") ? `[${o.host}]` : o.host;
  const trustedNow = tls ? trusted.current().size : 0;
  return {
    url: `${tls ? "wss" : "ws"}://${shown}:${port}`,
    port,
    auth: trustedNow ? "mtls" : "token",
    trustedClients: trustedNow,
    close: () => {
      front.close();
      web.close();
    },
  };
}
