// Progress notifications while a tool waits for a cell, sent only when the client asked for
// them (a progressToken in the request's _meta). `progress` is the seconds waited so far, the
// message the cell's latest output line: enough for a client to show life and reset its timeout.
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerRequest, ServerNotification } from "@modelcontextprotocol/sdk/types.js";

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Start sending; returns the function that stops. `line()` gives the latest output line. */
export function reportProgress(extra: Extra, everyMs: number, line: () => string): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => {};
  const started = Date.now();
  const timer = setInterval(() => {
    const latest = line();
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    extra
      .sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: seconds, message: latest ? latest : `running for ${seconds} s` },
      })
      .catch(() => {}); // the client went away: the result (or its absence) tells the rest
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
