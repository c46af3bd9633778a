// pysh poll <session> [cell_id] : the state and output of a cell (the latest without an id).
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { pyJson } from "../../util/py-json.js";

export const HELP = `usage: pysh poll [--wait [SECONDS]] [--json] <session> [cell_id]

Prints {"cell_id", "status": "running"|"done", "output"} as pythond 0.4 did,
with "error": true for a failed cell; {"status": "idle"} if there are no cells.
A cell the session died in has "status": "dead" (its output kept up to the end),
then the reason on stderr, exit 1.
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
    if (opts.json) return out(JSON.stringify(r)), timedOut ? 124 : EXIT_OK;
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
    const reply: Record<string, unknown> = { cell_id: r.cell_id, status: r.state === "done" ? "done" : "running", output: String(r.output).replace(/\n+$/, "") };
    if (r.mode === "fork") {
      reply.merged = r.merged ?? [];
      reply.skipped = r.skipped ?? [];
    }
    if (r.state === "done" && r.ok === false) reply.error = true;
    out(pyJson(reply));
    return timedOut ? 124 : EXIT_OK;
  });
}
