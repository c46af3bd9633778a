// Token authentication of TCP connections (never of the Unix socket, whose 0600 mode is its
// guard), as pythond 0.4 (compat §2): the WebSocket handshake completes, then the daemon
// reads `Authorization: Bearer <token>` (case-sensitive prefix; a token in the URL is never
// looked at), compares in constant time, and on failure sends "ERR auth failed" and closes
// 1008. Beyond 0.4: the token is read from its 0600 file and re-read when the file changes
// (`pyctl token --rotate` takes effect at once), and a peer that keeps failing is slowed down.
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import { secretsEqual, type TokenSource } from "../tls/token.js";
import type { AccessLog } from "./access-log.js";
import { AUTH_FAILED_REPLY, AUTH_FAILED_CODE, AUTH_FAILED_REASON } from "../wire/legacy.js";

const PREFIX = "Bearer ";
/** Failures a peer may make before each further attempt waits. */
const FREE_FAILURES = 3;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;
/** A peer's failures are forgotten this long after its last one. */
const FORGET_MS = 10 * 60_000;
/** Attempts of one slowed-down peer that may wait at once; more are refused unheard. */
const MAX_WAITING_PER_PEER = 8;
/** Peers remembered at most (oldest forgotten first), so the table has a bound. */
const MAX_PEERS = 10_000;

/** Constant-time check of an Authorization header against the token (lengths hidden too: both are hashed). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = header?.startsWith(PREFIX) ? header.slice(PREFIX.length) : "";
  return secretsEqual(given, token) && given.length > 0;
}

interface PeerRecord {
  failures: number;
  last: number;
  waiting: number;
}

/** Failed attempts per peer address (IP, not port): after FREE_FAILURES, each attempt waits, doubling. */
export class FailureThrottle {
  private readonly peers = new Map<string, PeerRecord>();

  private record(ip: string, now: number): PeerRecord | undefined {
    const r = this.peers.get(ip);
    if (r && now - r.last > FORGET_MS && r.waiting === 0) {
      this.peers.delete(ip);
      return undefined;
    }
    return r;
  }

  /** How long an attempt from ip waits before it is checked (0: at once). */
  delayFor(ip: string, now = Date.now()): number {
    const r = this.record(ip, now);
    if (!r || r.failures < FREE_FAILURES) return 0;
    return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (r.failures - FREE_FAILURES));
  }

  /** May one more attempt from ip wait? (false: refuse it unheard) */
  beginWait(ip: string): boolean {
    const r = this.peers.get(ip);
    if (!r) return true;
    if (r.waiting >= MAX_WAITING_PER_PEER) return false;
    r.waiting++;
    return true;
  }

  endWait(ip: string): void {
    const r = this.peers.get(ip);
    if (r && r.waiting > 0) r.waiting--;
  }

  failed(ip: string, now = Date.now()): number {
    let r = this.record(ip, now);
    if (!r) {
      if (this.peers.size >= MAX_PEERS) this.peers.delete(this.peers.keys().next().value!);
      r = { failures: 0, last: now, waiting: 0 };
      this.peers.set(ip, r);
    }
    r.failures++;
    r.last = now;
    return r.failures;
  }

  succeeded(ip: string): void {
    const r = this.peers.get(ip);
    if (r && r.waiting === 0) this.peers.delete(ip);
  }
}

export interface Gate {
  tokens: TokenSource;
  throttle: FailureThrottle;
  log: AccessLog;
}

export interface GateConn {
  id: number;
  peer: string;
  /** The peer's address without its port (what the throttle counts). */
  ip: string;
}

/**
 * Let a freshly opened connection in, or turn it away with 0.4's bytes. `serve` attaches the
 * protocol handler; until then the socket is paused so no frame is lost while a slowed-down
 * peer waits.
 */
export function admit(ws: WebSocket, req: IncomingMessage, conn: GateConn, gate: Gate, serve: () => void): void {
  const check = () => {
    if (bearerMatches(req.headers.authorization, gate.tokens.current())) {
      gate.throttle.succeeded(conn.ip);
      gate.log.write({ event: "auth", conn_id: conn.id, peer: conn.peer, status: "ok" });
      serve();
      return;
    }
    const n = gate.throttle.failed(conn.ip);
    gate.log.write({ event: "auth", conn_id: conn.id, peer: conn.peer, status: "rejected", detail: `failures=${n}` });
    process.stderr.write(`WARN: auth rejected from ${conn.peer}${n > FREE_FAILURES ? ` (${n} failures; slowing down)` : ""}\n`);
    ws.send(AUTH_FAILED_REPLY);
    ws.close(AUTH_FAILED_CODE, AUTH_FAILED_REASON);
  };
  const delay = gate.throttle.delayFor(conn.ip);
  if (!delay) return check();
  if (!gate.throttle.beginWait(conn.ip)) {
    gate.log.write({ event: "auth", conn_id: conn.id, peer: conn.peer, status: "rejected", detail: "throttled" });
    ws.send(AUTH_FAILED_REPLY);
    ws.close(AUTH_FAILED_CODE, AUTH_FAILED_REASON);
    return;
  }
  ws.pause();
  let waiting = true;
  const done = () => {
    if (waiting) gate.throttle.endWait(conn.ip);
    waiting = false;
  };
  const timer = setTimeout(() => {
    done();
    if (ws.readyState !== ws.OPEN) return;
    check();
    ws.resume();
  }, delay);
  ws.once("close", () => {
    clearTimeout(timer);
    done();
  });
}
