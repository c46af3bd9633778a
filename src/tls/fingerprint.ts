// Certificate fingerprints: SHA-256 of the DER, written as pythond 0.4 did (uppercase hex
// pairs joined by ":") and as OpenSSH does ("SHA256:" + unpadded base64). Both forms are
// accepted wherever a user types one.
import { createHash, timingSafeEqual } from "node:crypto";

const PEM_CERT = /-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----/;

/** DER bytes of the first certificate in a PEM text, or null if there is none. */
export function pemToDer(pem: string): Buffer | null {
  const m = PEM_CERT.exec(pem);
  if (!m) return null;
  const der = Buffer.from(m[1].replace(/\s+/g, ""), "base64");
  return der.length ? der : null;
}

export function derToPem(der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** 0.4's form: "AB:CD:..." (95 characters). */
export function fingerprintOf(der: Buffer): string {
  return colonHex(createHash("sha256").update(der).digest());
}

/** OpenSSH's form of a 0.4 fingerprint: "SHA256:<base64 without padding>". */
export function sshForm(fp: string): string {
  return "SHA256:" + Buffer.from(fp.replace(/:/g, ""), "hex").toString("base64").replace(/=+$/, "");
}

function colonHex(digest: Buffer): string {
  return digest.toString("hex").toUpperCase().replace(/(..)(?!$)/g, "$1:");
}

/**
 * A fingerprint typed or stored in any accepted form, as 0.4's form; "" if it is not one.
 * Hex: non-hex characters are dropped (0.4's rule) and 64 digits must remain.
 */
export function normaliseFingerprint(text: string): string {
  const t = text.trim();
  if (/^SHA256:/i.test(t)) {
    const b64 = t.slice(7);
    if (!/^[A-Za-z0-9+/]{43}=?$/.test(b64)) return "";
    const raw = Buffer.from(b64, "base64");
    return raw.length === 32 ? colonHex(raw) : "";
  }
  const hex = t.replace(/[^0-9A-Fa-f]/g, "");
  return hex.length === 64 ? colonHex(Buffer.from(hex, "hex")) : "";
}

/** Is fp one of the set? Every comparison is constant-time (as 0.4's hmac.compare_digest). */
export function matchesAny(fp: string, trusted: Iterable<string>): boolean {
  const a = Buffer.from(fp);
  let found = false;
  for (const t of trusted) {
    const b = Buffer.from(t);
    if (a.length === b.length && timingSafeEqual(a, b)) found = true;
  }
  return found;
}
