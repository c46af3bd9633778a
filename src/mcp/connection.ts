// The MCP server's one way to the daemon. Every tool goes through daemon(): a connection made
// on first use and made again after the daemon went away (a restarted daemon re-adopts its
// sessions, so the server carries on). Remote daemons arrive through Client.connect's options
// (PYTHOND_HOST & co.); what such a daemon keeps in files (history.py, images) is on its host,
// out of our reach: remoteDaemon() tells the tools and resources to say so.
import { Client } from "../client/client.js";

let current: Promise<Client> | null = null;
let live: Client | null = null;

export function daemon(): Promise<Client> {
  if (live && !live.isClosed) return Promise.resolve(live);
  if (!current) {
    current = Client.connect().then(
      (c) => ((live = c), (current = null), c),
      (e) => {
        current = null;
        throw e;
      },
    );
  }
  return current;
}

export function closeDaemon(): void {
  live?.close();
  live = null;
}

/** "host:port" of the daemon when it is remote (its files are on its host, not here), else null. */
export async function remoteDaemon(): Promise<string | null> {
  const c = await daemon();
  return c.remote ? c.socket : null;
}

/** What to tell a client that asked for a file of a remote daemon. */
export function notHere(what: string, host: string): string {
  return `${what} is on the daemon's host ${host}, and this MCP server runs on another machine: run pythond mcp there to read it`;
}
