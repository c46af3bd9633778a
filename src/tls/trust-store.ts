// The trust stores, in pythond 0.4's layout (compat §10): ~/.pythond/tls/trusted_clients/ (the
// server's authorized_keys) and trusted_servers/ (the client's known_hosts). Each entry is
// "<first 16 hex of FP>.pem" (the certificate) plus "<same>.pem.fingerprint" ("<FP>\n").
// Beyond 0.4, a pin may be bound to one server: trusted_servers/hosts/<host:port>/ holds
// entries of the same form, accepted for that address only (0.4 accepted any pin for any
// host, §14.20). 0.4 reads a subdirectory as nothing, so it keeps working on global pins.
import { readdirSync, readFileSync, lstatSync, unlinkSync, rmdirSync, openSync, readSync, closeSync, constants } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { stateDir } from "../util/paths.js";
import { ensurePrivateDir } from "../util/private-dir.js";
import { writePrivateFile } from "../util/private-file.js";
import { pemToDer, fingerprintOf, normaliseFingerprint } from "./fingerprint.js";

/** A file in a store is a certificate or a fingerprint line: nothing bigger is read. */
const MAX_ENTRY_BYTES = 64 * 1024;
/** Entries read from one directory at most (a store is a short list, not a database). */
const MAX_ENTRIES = 4096;

/** A per-host pin directory is named by its address, HOST:PORT. */
const ADDRESS_DIR = /^[A-Za-z0-9.\-_:[\]]{1,300}$/;

export function tlsDir(): string {
  return join(stateDir(), "tls");
}
export const trustedClientsDir = () => join(tlsDir(), "trusted_clients");
export const trustedServersDir = () => join(tlsDir(), "trusted_servers");

/** The directory of the pins bound to one server address (HOST:PORT, as canonicalAddress gives it). */
export function hostPinsDir(address: string): string {
  if (!ADDRESS_DIR.test(address) || /^\.+$/.test(address)) throw new Error(`invalid server address: ${address}`);
  return join(trustedServersDir(), "hosts", address);
}

/** Make a store directory (and its parents under ~/.pythond) private, creating what is missing. */
export function ensureStoreDir(dir: string): void {
  const parts = [stateDir(), tlsDir()];
  for (const p of parts) ensurePrivateDir(p);
  if (dir.startsWith(trustedServersDir() + "/")) ensurePrivateDir(trustedServersDir());
  if (dir.startsWith(join(trustedServersDir(), "hosts") + "/")) ensurePrivateDir(join(trustedServersDir(), "hosts"));
  ensurePrivateDir(dir);
}

function readSmall(path: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const buf = Buffer.allocUnsafe(MAX_ENTRY_BYTES + 1);
    let n = 0;
    for (let k; n <= MAX_ENTRY_BYTES && (k = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += k;
    return n > MAX_ENTRY_BYTES ? null : buf.subarray(0, n);
  } catch {
    return null; // a directory, unreadable, ...
  } finally {
    closeSync(fd);
  }
}

export interface StoreEntry {
  fingerprint: string;
  /** The file it came from. */
  file: string;
}

/**
 * The entries of a store directory, by 0.4's rules: a ".pem" file is fingerprinted (CA-capable
 * ones skipped with a warning), any other file is read as fingerprint text (its first token).
 * A missing directory is an empty store.
 */
export function readStore(dir: string, warn: (msg: string) => void = () => {}): StoreEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort().slice(0, MAX_ENTRIES);
  } catch {
    return [];
  }
  const out: StoreEntry[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const data = readSmall(path);
    if (!data) continue;
    let fp = "";
    if (name.endsWith(".pem")) {
      const der = pemToDer(data.toString("latin1"));
      if (!der) continue;
      try {
        if (new X509Certificate(der).ca) {
          warn(`warn: skipping CA-capable cert ${name}`);
          continue;
        }
      } catch {
        continue; // not a certificate
      }
      fp = fingerprintOf(der);
    } else {
      fp = normaliseFingerprint(data.toString("latin1").trim().split(/\s+/)[0] ?? "");
    }
    if (fp) out.push({ fingerprint: fp, file: path });
  }
  return out;
}

export function fingerprintSet(dir: string, warn?: (msg: string) => void): Set<string> {
  return new Set(readStore(dir, warn).map((e) => e.fingerprint));
}

/** Add a certificate (PEM text, stored byte for byte as 0.4 does) to a store. */
export function addToStore(dir: string, pem: Buffer, fp: string): string {
  ensureStoreDir(dir);
  const name = fp.replace(/:/g, "").slice(0, 16) + ".pem";
  const dest = join(dir, name);
  writePrivateFile(dest, pem);
  writePrivateFile(dest + ".fingerprint", fp + "\n");
  return dest;
}

/** Remove every entry of a store with this fingerprint; returns the files removed. */
export function removeFromStore(dir: string, fp: string): string[] {
  const removed: string[] = [];
  for (const e of readStore(dir)) {
    if (e.fingerprint !== fp) continue;
    unlinkSync(e.file);
    removed.push(e.file);
  }
  // A ".pem.fingerprint" whose ".pem" went (or the reverse) is part of the same entry.
  for (const f of [...removed]) {
    const twin = f.endsWith(".pem") ? f + ".fingerprint" : f.replace(/\.fingerprint$/, "");
    if (twin !== f && !removed.includes(twin)) {
      try {
        lstatSync(twin);
        unlinkSync(twin);
        removed.push(twin);
      } catch {
        /* not there */
      }
    }
  }
  return removed;
}

/** The server addresses that have pins of their own (names that are not addresses are ignored). */
export function pinnedHosts(): string[] {
  try {
    return readdirSync(join(trustedServersDir(), "hosts"))
      .filter((n) => ADDRESS_DIR.test(n))
      .sort();
  } catch {
    return [];
  }
}

/** Remove a host's pin directory once it is empty. */
export function pruneHostDir(address: string): void {
  try {
    rmdirSync(hostPinsDir(address));
  } catch {
    /* not empty or not there */
  }
}

/** Read a certificate file given by the user: its PEM bytes, DER and fingerprint. */
export function readCertFile(path: string): { pem: Buffer; der: Buffer; fingerprint: string } {
  let pem: Buffer;
  try {
    const st = lstatSync(path);
    if (!st.isFile() && !st.isSymbolicLink()) throw new Error("not a file");
    if (st.size > MAX_ENTRY_BYTES) throw new Error("too large");
    pem = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read certificate ${path}: ${(e as Error).message}`);
  }
  if (pem.length > MAX_ENTRY_BYTES) throw new Error(`invalid certificate ${path}: too large`);
  const der = pemToDer(pem.toString("latin1"));
  if (!der) throw new Error(`invalid certificate ${path}: no PEM certificate in it`);
  return { pem, der, fingerprint: fingerprintOf(der) };
}
