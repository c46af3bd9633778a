// Errors a tool caller can see. A remote exception keeps its Python type name, message and
// the remote traceback; a dead remote says how it ended.

/** A Python exception raised by a tool method (or by loading its module) on the remote. */
export class RemoteError extends Error {
  override name = "RemoteError";
  /** Python type: a builtin's bare name ("FileNotFoundError"), else "module.Qualname". */
  readonly type: string;
  /** The remote traceback text (remote frames). */
  readonly remoteTraceback: string;
  readonly host?: string;
  readonly tool?: string;
  readonly method?: string;
  /** The exception's args when they could be encoded. */
  readonly args?: unknown[];
  readonly errno?: number;
  readonly details: Record<string, unknown>;
  constructor(e: Record<string, unknown>) {
    const type = String(e.type ?? "Error");
    super(`${type}: ${String(e.message ?? "")}`);
    this.type = type;
    this.remoteTraceback = String(e.traceback ?? "");
    if (typeof e.host === "string") this.host = e.host;
    if (typeof e.tool === "string") this.tool = e.tool;
    if (typeof e.method === "string") this.method = e.method;
    if (Array.isArray(e.args)) this.args = e.args;
    if (typeof e.errno === "number") this.errno = e.errno;
    this.details = e;
  }
  /** The message as the remote gave it, without the type prefix. */
  get remoteMessage(): string {
    return String(this.details.message ?? "");
  }
}

/** The remote process is gone (exit, kill, transport failure): fails every pending and later call. */
export class RemoteClosedError extends Error {
  override name = "RemoteClosedError";
  constructor(
    message: string,
    /** Exit status when the remote exited on its own (SystemExit, crash), else null. */
    readonly exitStatus: number | null = null,
  ) {
    super(message);
  }
}

/** A value could not be mapped by the tool codec (docs/PROTOCOL.md, "Codec"). */
export class CodecError extends TypeError {
  override name = "CodecError";
}
