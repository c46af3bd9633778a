// pysh poll <session> [cell_id] : the state and output of a cell (the latest without an id).
import { withClient, verb, out, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { seconds, sessionName } from "../options.js";
import { pyJson } from "../../util/py-json.js";

const USAGE = "pysh poll [--wait [SECONDS]] [--json] <session> [cell_id]";
const DAY = 24 * 3600;
const CELL_ID = /^[0-9a-f]{12}$/;

export const HELP = `usage: ${USAGE}

Prints {"cell_id", "status": "running"|"done"|"cancelled", "output"} as pythond
0.4 did, with "error": true for a failed or cancelled cell; {"status": "idle"} if
there are no cells. A cell the session died in has "status": "dead" (its output
kept up to the end), then the reason on stderr, exit 1.
Fork cells add "merged" and "skipped" (the names merged back / left out).
  --wait [SECONDS]  block until the cell is done (at most SECONDS, default 24 h);
                    exit 124 if it is still running when the wait ends
--json prints everything the session knows about the cell.
Exit status: 0 running or done, 1 the cell failed (or is unknown), 124 still running
after --wait.
Through a proxy: pysh poll <alias> [<remote-session>] [cell_id].`;

export const poll = verb({ usage: USAGE, help: HELP, options: { "--wait": "seconds?", "--json": "flag" } }, async ({ opts, args }, json) => {
  if (args.length < 1 || args.length > 3) throw new UsageError(`pysh poll: expected <session> [cell_id], got ${args.length} argument(s)`, USAGE);
  const session = sessionName(args[0], USAGE);
  // Through a proxy, "<alias> <remote-session> [cell_id]": a second word that is not a cell id names the remote session.
  const explicit = args.length === 3 || (args.length === 2 && !CELL_ID.test(args[1]));
  const via = explicit ? { remote: sessionName(args[1], USAGE) } : {};
  const cell: string | undefined = explicit ? args[2] : args[1];
  const wait = opts.wait === true ? DAY : seconds(opts.wait, "--wait", USAGE, { max: DAY });
  return withClient(async (client) => {
    const r = await client.request("poll", { session, cell, wait, ...via });
    const timedOut = wait !== undefined && (r.state === "running" || r.state === "queued");
    const failed = (r.state === "done" && r.ok === false) || r.state === "cancelled";
    if (json) return out(JSON.stringify(r)), timedOut ? 124 : failed || r.state === "unknown" || r.state === "evicted" ? EXIT_ERROR : EXIT_OK;
    if (r.state === "idle") return out(pyJson({ status: "idle" })), EXIT_OK;
    if (r.state === "unknown" || r.state === "evicted") {
      out(pyJson({ cell_id: cell, status: "error", output: r.state === "evicted" ? "evicted" : "unknown cell" }));
      return EXIT_ERROR;
    }
    if (r.state === "dead") {
      // The session died in this cell: its output, then the reason, as run prints them.
      out(pyJson({ cell_id: r.cell_id, status: "dead", output: String(r.output).replace(/\n+$/, ""), error: true }));
      process.stderr.write(`ERR ${r.error?.message ?? "session dead"}\n`);
      return EXIT_ERROR;
    }
    const status = r.state === "done" || r.state === "cancelled" ? r.state : "running";
    const reply: Record<string, unknown> = { cell_id: r.cell_id, status, output: String(r.output).replace(/\n+$/, "") };
    if (r.mode === "fork") {
      reply.merged = r.merged ?? [];
      reply.skipped = r.skipped ?? [];
    }
    if (failed) reply.error = true;
    out(pyJson(reply));
    return timedOut ? 124 : failed ? EXIT_ERROR : EXIT_OK;
  }, json);
});
