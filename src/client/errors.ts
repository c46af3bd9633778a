// Errors a client sees: the daemon's {code, message}, or not reaching a daemon at all.
export class DaemonRequestError extends Error {
  override name = "DaemonRequestError";
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class ConnectError extends Error {
  override name = "ConnectError";
}
