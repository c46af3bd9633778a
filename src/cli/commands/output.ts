// pysh output <session> [--since SEQ] [--json] : output that belongs to no cell.
import { withClient, verb, out, EXIT_OK, UsageError } from "../common.js";
import { sessionName, remoteField } from "../options.js";

const USAGE = "pysh output [--since SEQ] [--json] <session>";

export const HELP = `usage: ${USAGE}

Prints the session's background output: what threads and child processes wrote
after the cell that started them had ended, and anything written between cells.
It belongs to no cell, so it is never part of a cell's result; the session keeps
the last 1 MiB of it (older bytes are dropped, and a marker says how many).
stdout goes to stdout, stderr to stderr. SEQ is a byte position: after the
output, pysh prints "next: --since SEQ" to stderr, to fetch only what is new.
  --since SEQ   only what came after byte SEQ (default 0: everything kept)
  --json        one object: seq (pass as --since next), since, dropped (bytes of
                it no longer kept), chunks [{stream, text}]`;

export const output = verb({ usage: USAGE, help: HELP, options: { "--json": "flag", "--since": "value" } }, async ({ opts, args }, json) => {
  if (args.length !== 1 && args.length !== 2) throw new UsageError(`pysh output: expected <session>, got ${args.length} argument(s)`, USAGE);
  const session = sessionName(args[0], USAGE);
  const via = remoteField(args, 0, USAGE);
  let since = 0;
  if (opts.since !== undefined) {
    if (!/^\d{1,15}$/.test(opts.since)) throw new UsageError("--since wants a byte position (an integer >= 0)", USAGE);
    since = Number(opts.since);
  }
  return withClient(async (client) => {
    const r = await client.request("output", { session, since, ...via });
    if (json) return out(JSON.stringify(r)), EXIT_OK;
    if (r.dropped) process.stderr.write(`[pythond: ${r.dropped} bytes of background output dropped (the session keeps the last 1 MiB)]\n`);
    for (const c of r.chunks) (c.stream === "stderr" ? process.stderr : process.stdout).write(c.text);
    process.stderr.write(`next: --since ${r.seq}\n`);
    return EXIT_OK;
  }, json);
});
