// pysh output <session> [--since SEQ] [--json] : output that belongs to no cell.
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, UsageError } from "../common.js";

export const HELP = `usage: pysh output [--since SEQ] [--json] <session>

Prints the session's background output: what threads and child processes wrote
after the cell that started them had ended, and anything written between cells.
It belongs to no cell, so it is never part of a cell's result; the session keeps
the last 1 MiB of it (older bytes are dropped, and a marker says how many).
stdout goes to stdout, stderr to stderr. SEQ is a byte position: after the
output, pysh prints "next: --since SEQ" to stderr, to fetch only what is new.
  --since SEQ   only what came after byte SEQ (default 0: everything kept)
  --json        one object: seq (pass as --since next), since, dropped (bytes of
                it no longer kept), chunks [{stream, text}]`;

export async function output(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, session: string;
  let since = 0;
  try {
    const parsed = takeOptions(argv, { json: "flag", since: "value" });
    opts = parsed.opts;
    if (parsed.rest.length !== 1) throw new UsageError("pysh output [--since SEQ] [--json] <session>");
    [session] = parsed.rest;
    if (opts.since !== undefined) {
      if (!/^\d{1,15}$/.test(opts.since)) throw new UsageError("--since wants a byte position (an integer >= 0)");
      since = Number(opts.since);
    }
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    const r = await client.request("output", { session, since });
    if (opts.json) return out(JSON.stringify(r)), EXIT_OK;
    if (r.dropped) process.stderr.write(`[pythond: ${r.dropped} bytes of background output dropped (the session keeps the last 1 MiB)]\n`);
    for (const c of r.chunks) (c.stream === "stderr" ? process.stderr : process.stdout).write(c.text);
    process.stderr.write(`next: --since ${r.seq}\n`);
    return EXIT_OK;
  });
}
