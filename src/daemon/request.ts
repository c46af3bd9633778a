// One request's lifecycle, the same for every protocol adapter: logged, run, logged with its
// status, answered, and then whatever must follow the reply (stop, the start of an attach).
import type { DaemonContext, ConnInfo } from "./context.js";
import type { AccessFields } from "./access-log.js";
import { isValidName } from "./names.js";

export interface RequestInfo {
  cmd: string;
  /** The session the request names, as the client wrote it (logged only if it is a valid name). */
  session: string | undefined;
  /** Extra fields of the "command" line (0.4 logs the body's size). */
  extra?: Partial<AccessFields>;
}

export async function serveRequest<R>(
  ctx: DaemonContext,
  conn: ConnInfo,
  info: RequestInfo,
  run: () => Promise<{ reply: R; ok: boolean }>,
  send: (reply: R) => void,
): Promise<void> {
  const session = info.session === undefined ? "-" : isValidName(info.session) ? info.session : "invalid";
  const who = { conn_id: conn.id, peer: conn.peer, cmd: info.cmd, session };
  ctx.log.write({ event: "command", ...who, ...info.extra });
  const { reply, ok } = await run();
  ctx.log.write({ event: "result", ...who, status: ok ? "ok" : "error" });
  send(reply);
  const after = conn.afterReply;
  conn.afterReply = undefined;
  after?.();
}
