// The proxies this daemon keeps across restarts: ~/.pythond/proxies.json, 0600 in the 0700
// state dir, written atomically. It holds each proxy's token (the reason for its mode), so it
// is refused if others may read it, and its content is never logged. A garbled or oversized
// file is refused with one line on stderr; the daemon starts without it.
import { readFileSync, lstatSync, existsSync } from "node:fs";
import { stateDir, proxiesPath } from "../util/paths.js";
import { ensurePrivateDir } from "../util/private-dir.js";
import { writePrivateFile } from "../util/private-file.js";
import { isValidName } from "../daemon/names.js";

export interface StoredProxy {
  alias: string;
  host: string;
  port: number;
  tls: boolean;
  token: string;
}

const MAX_FILE = 1024 * 1024;
const TOKEN = /^[\x21-\x7e]{1,1024}$/;

function valid(p: unknown): p is StoredProxy {
  const x = p as StoredProxy;
  return (
    typeof x === "object" &&
    x !== null &&
    typeof x.alias === "string" &&
    isValidName(x.alias) &&
    typeof x.host === "string" &&
    /^[A-Za-z0-9.\-_:%]{1,253}$/.test(x.host) &&
    Number.isInteger(x.port) &&
    x.port > 0 &&
    x.port < 65536 &&
    typeof x.tls === "boolean" &&
    typeof x.token === "string" &&
    TOKEN.test(x.token)
  );
}

/** The stored proxies; throws (with why) for a file that is unsafe or not ours to read. */
export function loadProxies(path = proxiesPath()): StoredProxy[] {
  if (!existsSync(path)) return [];
  const st = lstatSync(path);
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  if (st.mode & 0o077) throw new Error(`${path} has mode ${(st.mode & 0o777).toString(8)}: others may read the tokens in it (want 600)`);
  if (st.size > MAX_FILE) throw new Error(`${path} is over ${MAX_FILE} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new Error(`${path} is not JSON`);
  }
  const list = (data as { proxies?: unknown })?.proxies;
  if (!Array.isArray(list) || !list.every(valid)) throw new Error(`${path} is not a proxies file (want {"proxies": [{alias, host, port, tls, token}]})`);
  return list;
}

function save(list: StoredProxy[], path = proxiesPath()): void {
  ensurePrivateDir(stateDir());
  writePrivateFile(path, JSON.stringify({ proxies: list }, null, 1) + "\n");
}

export function rememberProxy(p: StoredProxy): void {
  const list = safeLoad().filter((x) => x.alias !== p.alias);
  save([...list, p]);
}

export function forgetProxy(alias: string): void {
  const list = safeLoad();
  if (list.some((x) => x.alias === alias)) save(list.filter((x) => x.alias !== alias));
}

function safeLoad(): StoredProxy[] {
  try {
    return loadProxies();
  } catch {
    return [];
  }
}
