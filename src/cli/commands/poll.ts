// pysh poll <session> [cell_id] : the state and output of a cell (the latest without an id).
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { pyJson } from "../../util/py-json.js";

export const HELP = `usage: pysh poll [--wait [SECONDS]] [--json] <session> [cell_id]

Prints {"cell_id", "status": "running"|"done"|"cancelled", "output"} as pythond
0.4 did, with "error": true for a failed cell; a cancelled cell exits 1; {"status": "idle"} if there are no cells.
Fork cells add "merged" and "skipped" (the names merged back / left out).
  --wait [SECONDS]  block until the cell is done (at most SECONDS, default 24 h);
                    exit 124 if it is still running when the wait ends
--json prints everything the session knows about the cell.`;

export async function poll(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, session: string, cell: string | undefined;
  try {
    // --wait takes an optional number: "--wait 5", "--wait=5" or a bare "--wait".
    const args = [...argv];
    let wait: number | undefined;
    const wi = args.findIndex((a) => a === "--wait" || a.startsWith("--wait="));
    if (wi >= 0 && (wi < args.indexOf("--") || !args.includes("--"))) {
      const a = args[wi];
      let text: string | undefined = a.startsWith("--wait=") ? a.slice(7) : undefined;
      if (text === undefined && /^\d+(\.\d+)?$/.test(args[wi + 1] ?? "")) text = args.splice(wi + 1, 1)[0];
      wait = text === undefined ? 24 * 3600 : Number(text);
      if (!Number.isFinite(wait) || wait < 0 || wait > 24 * 3600) throw new UsageError("--wait wants seconds from 0 to 86400");
      args.splice(wi, 1);
    }
    const parsed = takeOptions(args, { json: "flag" });
    opts = parsed.opts;
    opts.wait = wait;
    if (parsed.rest.length < 1 || parsed.rest.length > 2) throw new UsageError("pysh poll <session> [cell_id]");
    [session, cell] = parsed.rest;
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    const r = await client.request("poll", { session, cell, wait: opts.wait });
    const timedOut = opts.wait !== undefined && (r.state === "running" || r.state === "queued");
    if (opts.json) return out(JSON.stringify(r)), timedOut ? 124 : r.state === "cancelled" ? EXIT_ERROR : EXIT_OK;
    if (r.state === "idle") return out(pyJson({ status: "idle" })), EXIT_OK;
    if (r.state === "unknown" || r.state === "evicted") {
      out(pyJson({ cell_id: cell, status: "error", output: r.state === "evicted" ? "evicted" : "unknown cell" }));
      return EXIT_ERROR;
    }
    const status = r.state === "done" || r.state === "cancelled" ? r.state : "running";
    const reply: Record<string, unknown> = { cell_id: r.cell_id, status, output: String(r.output).replace(/\n+$/, "") };
    if (r.mode === "fork") {
      reply.merged = r.merged ?? [];
      reply.skipped = r.skipped ?? [];
    }
    if (status !== "running" && r.ok === false) reply.error = true;
    out(pyJson(reply));
    if (status === "cancelled") return EXIT_ERROR; // it never ran: not a success
    return timedOut ? 124 : EXIT_OK;
  });
}
