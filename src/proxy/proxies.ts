// Proxies in the session table: connect (probe first, then the alias under the table's rules,
// then remembered), disconnect (the proxy dropped, the remote session left alone), and the
// stored ones put back when the daemon starts.
import type { SessionTable } from "../daemon/session-table.js";
import { DaemonError } from "../daemon/errors.js";
import { parseTarget, canonicalAddress } from "../util/address.js";
import type { RemoteTarget } from "../client/remote.js";
import { RemoteLink } from "./link.js";
import { ProxiedSession } from "./proxied-session.js";
import { loadProxies, rememberProxy, forgetProxy } from "./store.js";

export interface ConnectParams {
  alias: string;
  address: string;
  tls: boolean;
  token: string;
  replace: boolean;
}

function targetOf(address: string, tls: boolean): RemoteTarget {
  let a;
  try {
    a = parseTarget(address, "address");
  } catch (e) {
    throw new DaemonError("bad_request", (e as Error).message);
  }
  return { address: a, name: canonicalAddress(a), tls };
}

export async function connectProxy(table: SessionTable, p: ConnectParams): Promise<Record<string, unknown>> {
  const target = targetOf(p.address, p.tls);
  const existing = table.find(p.alias);
  // Probe first: a session this would replace is discarded only for a remote that answers.
  const link = await RemoteLink.open(target, p.token);
  try {
    await table.add(p.alias, p.replace, async () => new ProxiedSession(link, p.alias));
  } catch (e) {
    link.close();
    throw e;
  }
  rememberProxy({ alias: p.alias, host: target.address.host, port: target.address.port, tls: p.tls, token: p.token });
  const info = link.info();
  return { alias: p.alias, address: info.address, tls: info.tls, protocol: info.protocol, rtt_ms: info.rtt_ms, replaced: existing !== undefined };
}

export async function disconnectProxy(table: SessionTable, alias: string): Promise<Record<string, unknown>> {
  const s = table.find(alias);
  if (!s) {
    forgetProxy(alias);
    throw new DaemonError("no_session", `no session '${alias}'`);
  }
  if (!s.remote) throw new DaemonError("bad_request", `'${alias}' is local, use kill`);
  const address = s.where;
  await table.kill(alias);
  forgetProxy(alias);
  return { disconnected: alias, address };
}

/** Put the stored proxies back (each reconnects in the background); a name taken by a live local session wins. */
export async function restoreProxies(table: SessionTable): Promise<string[]> {
  let stored;
  try {
    stored = loadProxies();
  } catch (e) {
    process.stderr.write(`pythond: not restoring proxies: ${(e as Error).message}\n`);
    return [];
  }
  const restored: string[] = [];
  for (const p of stored) {
    const target: RemoteTarget = { address: { host: p.host, port: p.port }, name: canonicalAddress({ host: p.host, port: p.port }), tls: p.tls };
    try {
      await table.add(p.alias, false, async () => new ProxiedSession(RemoteLink.background(target, p.token), p.alias));
      restored.push(p.alias);
    } catch (e) {
      process.stderr.write(`pythond: proxy '${p.alias}' (${target.name}) not restored: ${(e as Error).message}\n`);
    }
  }
  return restored;
}
