// This machine's certificate (~/.pythond/tls/cert.pem + key.pem): made on first use, then
// reused, serving both as the server certificate and as the client certificate (mTLS), as in
// pythond 0.4 (compat §11). Built with @peculiar/x509 over Node's WebCrypto, not by hand.
// The key is ECDSA P-256 (0.4: RSA 2048): as strong, generated in milliseconds, and a
// cheaper TLS handshake; every TLS 1.2+ peer, 0.4's Python client included, accepts it.
import "reflect-metadata"; // tsyringe, under @peculiar/x509, needs it before it loads
import * as x509 from "@peculiar/x509";
import { webcrypto, createPrivateKey, createPublicKey, X509Certificate, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { writePrivateFile } from "../util/private-file.js";
import { tlsDir, ensureStoreDir } from "./trust-store.js";
import { fingerprintOf, pemToDer } from "./fingerprint.js";

export const DEFAULT_SANS = ["localhost", "pythond", "127.0.0.1", "::1"];
const VALID_DAYS = 3650;
const DNS_NAME = /^(?=.{1,253}$)(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*$/;

export class CertError extends Error {
  override name = "CertError";
}

export interface MachineCert {
  certPath: string;
  keyPath: string;
  cert: Buffer;
  key: Buffer;
  fingerprint: string;
  sans: string[];
  notAfter: string;
  /** True when this call created the pair. */
  created: boolean;
}

export const certPaths = () => ({ certPath: join(tlsDir(), "cert.pem"), keyPath: join(tlsDir(), "key.pem") });

/** A --san value: a DNS name or an IP address; anything else is refused. */
export function checkSan(name: string): string {
  if (isIP(name) || DNS_NAME.test(name)) return name.toLowerCase();
  throw new CertError(`invalid --san ${JSON.stringify(name)}: want a DNS name or an IP address`);
}

/** The SANs of a certificate, as plain names ("localhost", "127.0.0.1", ...). */
function sansOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? "")
    .split(", ")
    .map((s) => s.replace(/^(DNS|IP Address):/, ""))
    .filter(Boolean)
    .map((s) => s.toLowerCase());
}

/** Do the certificate and the private key belong together? */
function pairMatches(cert: Buffer, key: Buffer): boolean {
  try {
    const fromKey = createPublicKey(createPrivateKey(key)).export({ type: "spki", format: "der" });
    const fromCert = new X509Certificate(cert).publicKey.export({ type: "spki", format: "der" });
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}

function describe(certPath: string, keyPath: string, cert: Buffer, key: Buffer, created: boolean): MachineCert {
  const parsed = new X509Certificate(cert);
  return { certPath, keyPath, cert, key, fingerprint: fingerprintOf(pemToDer(cert.toString("latin1"))!), sans: sansOf(parsed), notAfter: parsed.validTo, created };
}

/** The existing pair, or null if there is none; a broken or mismatched pair is an error naming the fix. */
export function loadMachineCert(): MachineCert | null {
  const { certPath, keyPath } = certPaths();
  const haveCert = existsSync(certPath);
  const haveKey = existsSync(keyPath);
  if (!haveCert && !haveKey) return null;
  const fix = `remove ${certPath} and ${keyPath}, or run: pyctl cert --new (clients that pinned it must pin the new one)`;
  if (!haveCert || !haveKey) throw new CertError(`${haveCert ? keyPath : certPath} is missing -- ${fix}`);
  const cert = readFileSync(certPath);
  const key = readFileSync(keyPath);
  if (!pemToDer(cert.toString("latin1"))) throw new CertError(`${certPath} holds no certificate -- ${fix}`);
  if (!pairMatches(cert, key)) throw new CertError(`${certPath} and ${keyPath} do not belong together -- ${fix}`);
  return describe(certPath, keyPath, cert, key, false);
}

/** Make a new pair (replacing any old one) with the default SANs plus `extraSans`. */
export async function createMachineCert(extraSans: string[] = []): Promise<MachineCert> {
  const sans = [...new Set([...DEFAULT_SANS, ...extraSans.map(checkSan)])];
  const crypto: any = webcrypto; // its Crypto type lives in the DOM lib, which we do not load
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive INTEGER
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString("hex"),
      name: "CN=pythond",
      notBefore: new Date(now - 60_000), // a peer's clock a little behind still accepts it
      notAfter: new Date(now + VALID_DAYS * 86400_000),
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
        new x509.SubjectAlternativeNameExtension(sans.map((s) => ({ type: isIP(s) ? ("ip" as const) : ("dns" as const), value: s }))),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = Buffer.from(`-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`);
  const certPem = Buffer.from(cert.toString("pem").replace(/\r\n/g, "\n").replace(/\n?$/, "\n"));
  const { certPath, keyPath } = certPaths();
  ensureStoreDir(tlsDir());
  writePrivateFile(keyPath, keyPem, 0o600);
  writePrivateFile(certPath, certPem, 0o644);
  return describe(certPath, keyPath, certPem, keyPem, true);
}

/** The pair, made on first use (what the daemon and `pyctl cert` call). */
export async function ensureMachineCert(): Promise<MachineCert> {
  return loadMachineCert() ?? (await createMachineCert());
}

/**
 * Can this certificate act as a CA (basicConstraints CA:TRUE, or keyUsage keyCertSign or
 * cRLSign)? `pyctl trust` and `pyctl pin` refuse those, as 0.4 does: a pin names one peer.
 */
export function caCapable(der: Buffer): boolean {
  const cert = new x509.X509Certificate(der);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (bc?.ca) return true;
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  return !!ku && (ku.usages & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign)) !== 0;
}
