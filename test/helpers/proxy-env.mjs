// Two (or more) real daemons on this machine for the proxy tests, each with its own HOME and
// runtime dir: a remote one listening on TLS (its own certificate and token) and a local one
// that pins that certificate and connects to it. A TCP relay between them can be cut to
// drop the link mid-cell.
import { createServer, connect as netConnect } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startListening, tokenOf } from "./remote.mjs";

/** Start d as a TLS-listening daemon: {port, token, fp, tokenFile}. */
export async function listeningRemote(d, envExtra = {}) {
  const { port, child } = await startListening(d, ["--listen", "127.0.0.1:0", "--tls"], envExtra);
  const token = await tokenOf(d);
  const fp = JSON.parse((await d.pyctl("cert", "--json")).stdout).sha256;
  const tokenFile = join(d.dir, "remote-token");
  writeFileSync(tokenFile, token + "\n", { mode: 0o600 });
  return { port, token, fp, tokenFile, child };
}

/** local pins remote's certificate for addr and connects alias to it. */
export async function connectTo(local, alias, addr, remote, ...extra) {
  const pin = await local.pyctl("pin", addr, "--expect", remote.fp);
  if (pin.code !== 0) throw new Error(`pin failed: ${pin.stderr}`);
  return local.pyctl("connect", alias, addr, "--tls", "--token-file", remote.tokenFile, ...extra);
}

/**
 * A TCP relay to port that can be cut (every connection through it destroyed), frozen (bytes
 * stop flowing both ways and new connections hang, as on a dead network path) and healed.
 */
export async function relay(port) {
  const socks = new Set();
  let open = true;
  let frozen = false;
  const server = createServer((a) => {
    if (!open) return a.destroy();
    if (frozen) {
      socks.add(a);
      a.on("error", () => {});
      return; // accepted, never answered
    }
    const b = netConnect(port, "127.0.0.1");
    socks.add(a).add(b);
    a.pipe(b).pipe(a);
    const end = () => {
      a.destroy();
      b.destroy();
      socks.delete(a);
      socks.delete(b);
    };
    a.on("error", end).on("close", end);
    b.on("error", end).on("close", end);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: server.address().port,
    /** Drop every connection and refuse new ones until heal(). */
    cut() {
      open = false;
      for (const s of socks) s.destroy();
      socks.clear();
    },
    heal() {
      open = true;
      frozen = false;
    },
    /** Stop every byte (existing connections stay open, silent); heal() lets new ones through. */
    freeze() {
      frozen = true;
      for (const s of socks) {
        s.unpipe();
        s.pause();
      }
    },
    close() {
      this.cut();
      server.close();
    },
  };
}
