// Reaching a daemon over TCP (PYTHOND_HOST=host:port): plain ws:// with the token (a loopback
// listener, 0.4's SSH-tunnel mode) or TLS (PYTHOND_TLS=1). Loaded only when PYTHOND_HOST is
// set, so the local path never loads node:tls or node:crypto.
//
// Order matters: the server's certificate is checked against the pins *before* a byte of the
// token is written (the HTTP upgrade carries it), so a server that is not the pinned one
// learns nothing. Pins for this host:port and global pins (0.4's) are accepted; with none,
// a certificate that the system CAs vouch for under this host name is accepted (as 0.4);
// otherwise the error shows the fingerprint seen and the command that pins it.
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, checkServerIdentity, type TLSSocket } from "node:tls";
import { existsSync, readFileSync } from "node:fs";
import { UnixWebSocket, type UnixWsOptions } from "./unix-ws.js";
import { ConnectError } from "./errors.js";
import { parseTarget, canonicalAddress, type Address } from "../util/address.js";
import { fingerprintOf, sshForm, matchesAny } from "../tls/fingerprint.js";
import { fingerprintSet, trustedServersDir, hostPinsDir, tlsDir } from "../tls/trust-store.js";
import { readTokenFile, TokenError } from "../tls/token.js";
import { join } from "node:path";

export interface RemoteTarget {
  address: Address;
  /** "host:port" as pins and messages spell it. */
  name: string;
  tls: boolean;
}

export function remoteTarget(env = process.env): RemoteTarget {
  const address = parseTarget(env.PYTHOND_HOST ?? "");
  return { address, name: canonicalAddress(address), tls: /^(1|true|yes)$/i.test(env.PYTHOND_TLS ?? "") };
}

/** What may go into the Authorization header: visible ASCII, no CR/LF to inject headers with. */
const TOKEN_CHARS = /^[\x21-\x7e]{1,1024}$/;

/** PYTHOND_TOKEN, else the first line of PYTHOND_TOKEN_FILE. */
export function clientToken(env = process.env): string {
  let token: string;
  let from = "PYTHOND_TOKEN";
  if (env.PYTHOND_TOKEN) token = env.PYTHOND_TOKEN;
  else if (env.PYTHOND_TOKEN_FILE) {
    from = `token file ${env.PYTHOND_TOKEN_FILE}`;
    try {
      token = readTokenFile(env.PYTHOND_TOKEN_FILE);
      if (!token) throw new TokenError(`${from} is empty`);
    } catch (e) {
      throw new ConnectError((e as Error).message);
    }
  } else throw new ConnectError("no token: set PYTHOND_TOKEN or PYTHOND_TOKEN_FILE (the server shows it with: pyctl token)");
  if (!TOKEN_CHARS.test(token)) throw new ConnectError(`${from} is not a token (printable ASCII without spaces, at most 1024 characters)`);
  return token;
}

export interface PinVerdict {
  ok: boolean;
  fingerprint: string;
  /** Why not, with the fix. */
  problem?: string;
}

/** Is this peer certificate acceptable for this server? (pins first; system CAs only when nothing is pinned) */
export function checkServerCert(t: RemoteTarget, s: TLSSocket): PinVerdict {
  const peer = s.getPeerCertificate();
  if (!peer?.raw) return { ok: false, fingerprint: "", problem: `server ${t.name} sent no certificate` };
  const fp = fingerprintOf(peer.raw);
  const warn = (m: string) => process.stderr.write(m + "\n");
  const hostPins = fingerprintSet(hostPinsDir(t.name), warn);
  const globalPins = fingerprintSet(trustedServersDir(), warn);
  if (hostPins.size || globalPins.size) {
    if (matchesAny(fp, hostPins) || matchesAny(fp, globalPins)) return { ok: true, fingerprint: fp };
    return {
      ok: false,
      fingerprint: fp,
      problem:
        `server certificate of ${t.name} does not match its pin${hostPins.size ? "" : " (pins for other servers are not accepted)"}: ` +
        `it presented ${sshForm(fp)} (${fp}). If the server's certificate was replaced on purpose, ` +
        `check it on the server (pyctl cert), then: pyctl unpin ${t.name} && pyctl pin ${t.name} --expect ${sshForm(fp)}`,
    };
  }
  if (s.authorized && checkServerIdentity(t.address.host, peer) === undefined) return { ok: true, fingerprint: fp };
  return {
    ok: false,
    fingerprint: fp,
    problem:
      `server certificate of ${t.name} is not pinned: it presented ${sshForm(fp)} (${fp}). ` +
      `Compare it with the server's (pyctl cert there), then: pyctl pin ${t.name} --expect ${sshForm(fp)}`,
  };
}

/** This machine's certificate, presented to servers that want one (mTLS). */
function clientCert(): { cert?: Buffer; key?: Buffer } {
  const certPath = join(tlsDir(), "cert.pem");
  const keyPath = join(tlsDir(), "key.pem");
  if (!existsSync(certPath) || !existsSync(keyPath)) return {};
  try {
    return { cert: readFileSync(certPath), key: readFileSync(keyPath) };
  } catch (e) {
    process.stderr.write(`WARN: client cert load failed: ${(e as Error).message}\n`);
    return {};
  }
}

/** A connect failure in words, naming the fix. */
function explain(t: RemoteTarget, e: NodeJS.ErrnoException): ConnectError {
  const code = e.code ?? "";
  const where = `${t.tls ? "wss" : "ws"}://${t.name}`;
  if (code === "ECONNREFUSED") return new ConnectError(`cannot connect to ${where}: connection refused -- is the daemon listening there? (on the server: pythond daemon --listen ...)`);
  if (code === "ETIMEDOUT" || /timed out/.test(e.message)) return new ConnectError(`cannot connect to ${where}: timed out -- check PYTHOND_HOST and that the port is reachable`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new ConnectError(`cannot connect to ${where}: unknown host ${t.address.host}`);
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNEXPECTED_RECORD|HTTP_REQUEST/.test(code + e.message))
    return new ConnectError(`cannot connect to ${where}: the server does not speak TLS there -- unset PYTHOND_TLS (a loopback listener may be plain ws://)`);
  if (!t.tls && /this port speaks TLS/.test(e.message))
    return new ConnectError(`cannot connect to ${where}: the server speaks TLS there -- set PYTHOND_TLS=1`);
  if (!t.tls && /closed during the opening handshake/.test(e.message))
    return new ConnectError(`cannot connect to ${where}: the server closed the connection during the handshake -- if it uses TLS (a pythond 0.4 TLS port does this), set PYTHOND_TLS=1`);
  if (/ALERT|CERTIFICATE|SSL|TLS|ECONNRESET|EPIPE|closed during the opening handshake/i.test(code + " " + e.message) && t.tls)
    return new ConnectError(`cannot connect to ${where}: the server refused the TLS connection (${code || e.message}) -- if it requires client certificates, trust this machine's there: pyctl cert here, pyctl trust <that cert.pem> there`);
  return new ConnectError(`cannot connect to ${where}: ${e.message}`);
}

function timeoutError(): NodeJS.ErrnoException {
  return Object.assign(new Error("timed out"), { code: "ETIMEDOUT" });
}

/** The TCP or TLS connection, checked, ready for the WebSocket request. */
function openSocket(t: RemoteTarget, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let s: Socket;
    const fail = (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(timeoutError()), timeoutMs);
    if (!t.tls) {
      s = netConnect({ host: t.address.host, port: t.address.port });
      s.once("error", fail);
      s.once("connect", () => {
        clearTimeout(timer);
        s.off("error", fail);
        resolve(s);
      });
      return;
    }
    const tlsSock = tlsConnect({
      host: t.address.host,
      port: t.address.port,
      servername: /^[\d.]+$|:/.test(t.address.host) ? undefined : t.address.host,
      minVersion: "TLSv1.2",
      // We decide (checkServerCert) before anything is written; Node's own check would only
      // know CAs, not pins.
      rejectUnauthorized: false,
      ...clientCert(),
    });
    s = tlsSock;
    tlsSock.once("error", fail);
    tlsSock.once("secureConnect", () => {
      const v = checkServerCert(t, tlsSock);
      if (!v.ok) return fail(Object.assign(new ConnectError(v.problem!), { pinProblem: true }));
      clearTimeout(timer);
      tlsSock.off("error", fail);
      resolve(tlsSock);
    });
  });
}

export async function openRemote(opts: Omit<UnixWsOptions, "headers" | "host">, timeoutMs: number): Promise<{ ws: UnixWebSocket; target: RemoteTarget }> {
  let t: RemoteTarget;
  try {
    t = remoteTarget();
  } catch (e) {
    throw new ConnectError((e as Error).message);
  }
  return { ws: await openRemoteTo(t, clientToken(), opts, timeoutMs), target: t };
}

/** A WebSocket to the daemon at `t` with this token (a proxy's link: its target and token are its own, not the environment's). */
export async function openRemoteTo(t: RemoteTarget, token: string, opts: Omit<UnixWsOptions, "headers" | "host">, timeoutMs: number): Promise<UnixWebSocket> {
  let sock: Socket;
  try {
    sock = await openSocket(t, timeoutMs);
  } catch (e) {
    if ((e as { pinProblem?: boolean }).pinProblem) throw e;
    throw explain(t, e as NodeJS.ErrnoException);
  }
  try {
    return await UnixWebSocket.over(sock, true, { ...opts, host: t.name, headers: { Authorization: `Bearer ${token}` } });
  } catch (e) {
    throw explain(t, e as NodeJS.ErrnoException);
  }
}
