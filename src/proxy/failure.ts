// Why a proxy could not reach or use its remote daemon, as one stable code and a message that
// names the fix for `pyctl connect` (the client's own messages name environment variables,
// which a proxy does not read).
import { DaemonError } from "../daemon/errors.js";
import { ConnectError, DaemonRequestError } from "../client/errors.js";

export function linkFailure(address: string, e: unknown): DaemonError {
  if (e instanceof DaemonError) return e;
  const m = (e as Error)?.message ?? String(e);
  if ((e as { pinProblem?: boolean }).pinProblem || /is not pinned|does not match its pin/.test(m)) return new DaemonError("pin_failed", m);
  if (/auth failed/.test(m)) return new DaemonError("auth_failed", `auth failed at ${address}: wrong token -- give the remote daemon's token (pyctl token there) with --token-file or PYTHOND_TOKEN`);
  if (/connection refused/.test(m)) return new DaemonError("refused", `cannot connect to ${address}: connection refused -- is a daemon listening there? (there: pythond daemon --listen ...)`);
  if (/timed out/.test(m)) return new DaemonError("timeout", `cannot connect to ${address}: timed out -- check the address and that the port is reachable`);
  if (/does not speak TLS/.test(m)) return new DaemonError("tls_failed", `cannot connect to ${address}: the remote does not speak TLS there -- connect without --tls`);
  if (/speaks TLS|TLS \(a pythond 0\.4/.test(m)) return new DaemonError("tls_failed", `cannot connect to ${address}: the remote speaks TLS there -- add --tls`);
  if (/refused the TLS connection/.test(m)) return new DaemonError("tls_failed", m.replace(/^cannot connect to wss:\/\//, "cannot connect to "));
  if (e instanceof DaemonRequestError) return new DaemonError("unreachable", `remote ${address}: ${m}`);
  if (e instanceof ConnectError) return new DaemonError("unreachable", `remote ${address}: ${m.replace(/^cannot connect to wss?:\/\//, "cannot connect to ")}`);
  return new DaemonError("unreachable", `remote ${address}: ${m}`);
}

/** A remote daemon's error reply, kept with its code (no_session, exists, session_dead, ...). */
export function remoteError(e: unknown): Error {
  if (e instanceof DaemonRequestError) return new DaemonError(e.code as DaemonError["code"], e.message);
  return e as Error;
}
