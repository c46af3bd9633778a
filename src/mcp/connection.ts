// The MCP server's one way to the daemon. Every tool goes through daemon(): a connection made
// on first use and made again after the daemon went away (a restarted daemon re-adopts its
// sessions, so the server carries on). Remote daemons arrive through Client.connect's options
// (PYTHOND_HOST & co.) without a change here.
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
