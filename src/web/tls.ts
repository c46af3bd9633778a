// The certificate and key the page serves HTTPS with: the daemon's pair in ~/.pythond/tls/.
// One function, so the daemon's certificate module can take its place.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stateDir } from "../util/paths.js";

export function tlsPaths(): { cert: string; key: string } {
  const dir = join(stateDir(), "tls");
  return { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
}

export function loadTlsPair(): { cert: Buffer; key: Buffer } {
  const p = tlsPaths();
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`--tls needs the ${what} at ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  return { cert: read(p.cert, "certificate"), key: read(p.key, "private key") };
}
