// pysh poll <session> [cell_id] : the state and output of a cell (the latest without an id).
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { pyJson } from "../../util/py-json.js";

export const HELP = `usage: pysh poll [--json] <session> [cell_id]

Prints {"cell_id", "status": "running"|"done", "output"} as pythond 0.4 did,
with "error": true for a failed cell; {"status": "idle"} if there are no cells.
--json prints everything the session knows about the cell.`;

export async function poll(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, session: string, cell: string | undefined;
  try {
    const parsed = takeOptions(argv, { json: "flag" });
    opts = parsed.opts;
    if (parsed.rest.length < 1 || parsed.rest.length > 2) throw new UsageError("pysh poll <session> [cell_id]");
    [session, cell] = parsed.rest;
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    const r = await client.request("poll", { session, cell });
    if (opts.json) return out(JSON.stringify(r)), EXIT_OK;
    if (r.state === "idle") return out(pyJson({ status: "idle" })), EXIT_OK;
    if (r.state === "unknown" || r.state === "evicted") {
      out(pyJson({ cell_id: cell, status: "error", output: r.state === "evicted" ? "evicted" : "unknown cell" }));
      return EXIT_ERROR;
    }
    const reply: Record<string, unknown> = { cell_id: r.cell_id, status: r.state === "done" ? "done" : "running", output: String(r.output).replace(/\n+$/, "") };
    if (r.state === "done" && r.ok === false) reply.error = true;
    out(pyJson(reply));
    return EXIT_OK;
  });
}
