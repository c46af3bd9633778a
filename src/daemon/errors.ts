// Errors the daemon reports to clients: a stable code for programs, a message for people.
export type ErrorCode =
  | "bad_request"
  | "unknown_op"
  | "no_session"
  | "invalid_name"
  | "exists"
  | "too_many_sessions"
  | "session_dead"
  | "start_failed"
  | "too_large"
  | "timeout"
  | "unsupported"
  // a proxy's remote daemon (proxy/failure.ts): not reached, or refused us
  | "unreachable"
  | "refused"
  | "auth_failed"
  | "pin_failed"
  | "tls_failed"
  | "internal";

export class DaemonError extends Error {
  override name = "DaemonError";
  /** legacyMessage: the text pythond 0.4 sent for this error, if it differs (its hints said "new x", not "pysh new x"). */
  constructor(readonly code: ErrorCode, message: string, readonly legacyMessage?: string) {
    super(message);
  }
}
