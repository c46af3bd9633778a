// The daemon: one WebSocket listener on a 0600 Unix socket speaking two protocols
// (pythond 0.4 text and our structured JSON), the session table, and an orderly stop.
import { createServer, type IncomingMessage } from "node:http";
import { chmodSync, existsSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { socketPath, runtimeDir, agentDir, daemonLogPath, proxiesPath } from "../util/paths.js";
import { ensurePrivateDir } from "../util/private-dir.js";
import { AccessLog, stderrIs } from "./access-log.js";
import { SessionTable } from "./session-table.js";
import { InstanceLock, probeSocket, inodeOf, AlreadyRunningError } from "./instance.js";
import { checkSocketPaths, socketPathsOf } from "./socket-paths.js";
import { noteBytes } from "./idle-gc.js";
import { forgetDaemonMallocEnv } from "../util/malloc-env.js";
import type { DaemonContext, ConnInfo, StopOptions } from "./context.js";
import { serveLegacy } from "./legacy.js";
import { serveStructured } from "./structured.js";
import { STRUCTURED_PROTOCOL, LEGACY_PROTOCOL } from "../wire/structured.js";
// The TCP listener's code (TLS certificates, @peculiar/x509, tokens) loads only with --listen:
// it is ~16 MB of an idle daemon's RSS.
import type { ListenOptions, RemoteAccess } from "./remote-access.js";
import type { admit as Admit } from "./auth.js";

const HANDSHAKE_TIMEOUT_MS = 2000;
const KEEPALIVE_MS = 20_000;

export class StartError extends Error {
  override name = "StartError";
}

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new StartError(`${name} must be a positive integer (got ${JSON.stringify(v)})`);
  return n;
}

function offeredProtocols(req: IncomingMessage): string[] {
  const h = req.headers["sec-websocket-protocol"];
  return h ? String(h).split(",").map((p) => p.trim()) : [];
}

export interface RunningDaemon {
  ctx: DaemonContext;
  stopped: Promise<void>;
}

export interface DaemonOptions {
  /** A TCP listener beside the Unix socket (remote-access.ts). */
  listen?: ListenOptions;
}

/** A TCP client: its address ("host:port" for the access log; the IP is what auth.ts throttles). */
interface Remote {
  peer: string;
  ip: string;
}

export async function startDaemon(opts: DaemonOptions = {}): Promise<RunningDaemon> {
  forgetDaemonMallocEnv(); // sessions and any other child get glibc's defaults
  const sock = socketPath();
  const maxMessage = envInt("PYTHOND_MAX_MESSAGE", 64 * 1024 * 1024);
  const maxSessions = envInt("PYTHOND_MAX_SESSIONS", 128);
  const maxOutput = envInt("PYTHOND_MAX_OUTPUT", 64 * 1024 * 1024);
  try {
    ensurePrivateDir(dirname(sock));
  } catch (e) {
    throw new StartError((e as Error).message);
  }
  const lockPath = `${sock}.lock`;
  try {
    checkSocketPaths(socketPathsOf(sock, lockPath));
  } catch (e) {
    throw new StartError((e as Error).message);
  }
  let lock: InstanceLock;
  try {
    lock = await InstanceLock.acquire(lockPath);
  } catch (e) {
    if (e instanceof AlreadyRunningError) throw new StartError(`${e.message} on ${sock}`);
    throw new StartError(`cannot take the lock ${lockPath}: ${(e as Error).message}`);
  }
  try {
    if (existsSync(sock)) {
      if (await probeSocket(sock)) throw new StartError(`pythond already running on ${sock}`);
      unlinkSync(sock); // stale: nobody answers
    }
    const agents = agentDir(sock);
    ensurePrivateDir(agents);
    const log = new AccessLog(runtimeDir(), !stderrIs(daemonLogPath()));
    process.once("exit", () => log.flush());
    const table = new SessionTable({ agentDir: agents, maxSessions, maxOutput });
    await table.adoptAll();
    // Proxies kept from the last run come back (their code, TLS included, loads only then).
    if (existsSync(proxiesPath())) await (await import("../proxy/proxies.js")).restoreProxies(table);

    const http = createServer((_req, res) => {
      res.writeHead(426, { "content-type": "text/plain" }).end("pythond speaks WebSocket only\n");
    });
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: maxMessage,
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(STRUCTURED_PROTOCOL) ? STRUCTURED_PROTOCOL : offered.has(LEGACY_PROTOCOL) ? LEGACY_PROTOCOL : false),
    });
    let nextConn = 1;
    let stopping = false;
    let resolveStopped!: () => void;
    const stopped = new Promise<void>((r) => (resolveStopped = r));
    const alive = new WeakSet<WebSocket>();

    const ctx: DaemonContext = {
      table,
      log,
      maxMessage,
      startedAt: Date.now() / 1000,
      socket: sock,
      stop: (opts: StopOptions) => void stop(opts),
    };

    const handshakeTimers = new WeakMap<object, NodeJS.Timeout>();
    const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, remote?: Remote) => {
      clearTimeout(handshakeTimers.get(socket));
      const offered = offeredProtocols(req);
      if (!offered.includes(LEGACY_PROTOCOL) && !offered.includes(STRUCTURED_PROTOCOL)) {
        socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, remote));
    };
    http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(req, socket, head));
    http.on("connection", (socket) => {
      // The opening handshake must finish within 2 s (as 0.4).
      const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
      handshakeTimers.set(socket, timer);
      socket.once("close", () => clearTimeout(timer));
    });

    let remoteAccess: RemoteAccess | undefined;
    let admit: typeof Admit | undefined;
    const onConnection = (ws: WebSocket, req: IncomingMessage, remote?: Remote) => {
      const conn: ConnInfo = { id: nextConn++, peer: remote?.peer ?? "", protocol: ws.protocol, ws };
      log.write({ event: "connect", conn_id: conn.id, peer: conn.peer });
      alive.add(ws);
      ws.on("message", (data: Buffer) => noteBytes(data.length));
      ws.on("pong", () => alive.add(ws));
      ws.on("error", () => {});
      ws.on("close", () => log.write({ event: "disconnect", conn_id: conn.id, peer: conn.peer }));
      const serve = () => {
        if (ws.protocol === LEGACY_PROTOCOL) serveLegacy(ws, ctx, conn);
        else serveStructured(ws, ctx, conn);
      };
      // TCP clients show the token first (auth.ts); the Unix socket's 0600 mode is its guard.
      if (remote) admit!(ws, req, { id: conn.id, peer: conn.peer, ip: remote.ip }, remoteAccess!.gate, serve);
      else serve();
    };

    const keepalive = setInterval(() => {
      for (const ws of wss.clients) {
        if (!alive.has(ws)) {
          ws.terminate();
          continue;
        }
        alive.delete(ws);
        ws.ping();
      }
    }, KEEPALIVE_MS);
    keepalive.unref();

    await new Promise<void>((resolve, reject) => {
      const old = process.umask(0o177);
      http.once("error", reject);
      http.listen(sock, () => {
        process.umask(old);
        http.off("error", reject);
        resolve();
      });
    });
    chmodSync(sock, 0o600);
    const ourInode = inodeOf(sock);
    process.stderr.write(`pythond pid=${process.pid} ws://${sock} mode=pty\n`);
    if (opts.listen) {
      try {
        const { startRemoteAccess } = await import("./remote-access.js");
        admit = (await import("./auth.js")).admit;
        remoteAccess = await startRemoteAccess(opts.listen, log, (req, socket, head, peer, ip) => upgrade(req, socket, head, { peer, ip }));
        const url = new URL(remoteAccess.listener.url);
        ctx.listening = { listen: url.host, tls: url.protocol === "wss:" };
      } catch (e) {
        http.close();
        if (inodeOf(sock) === ourInode) unlinkSync(sock);
        throw new StartError((e as Error).message);
      }
    }

    async function stop(opts: StopOptions): Promise<void> {
      if (stopping) return;
      stopping = true;
      clearInterval(keepalive);
      await new Promise((r) => setTimeout(r, 200)); // let the last replies leave (as 0.4)
      // The reason tells clients whether their sessions live on (pyctl restart): an attached
      // pysh re-attaches to the next daemon instead of ending.
      const reason = opts.keepSessions ? "daemon restarting, sessions kept" : "daemon stopping";
      for (const ws of wss.clients) ws.close(opts.closeCode ?? 1001, reason);
      http.close();
      remoteAccess?.listener.close();
      await table.shutdown(!opts.keepSessions);
      if (ourInode !== undefined && inodeOf(sock) === ourInode) {
        try {
          unlinkSync(sock);
        } catch {
          /* gone */
        }
      }
      lock.release();
      log.flush();
      process.stderr.write("\npythond stopped -- tis but a scratch\n");
      resolveStopped();
    }

    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => void stop({ keepSessions: false }));
    process.on("SIGHUP", () => {});
    return { ctx, stopped };
  } catch (e) {
    lock.release();
    throw e;
  }
}

