// pysh run <session> CODE...|-f FILE|-  : run a cell, stream its output, exit 1 if it raised.
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { codeFrom } from "../code-source.js";
import { CellPrinter } from "../output.js";
import type { CellOutcome } from "../../client/client.js";

export const HELP = `usage: pysh run [--json] <session> CODE...
       pysh run [--json] <session> -f FILE
       pysh run [--json] <session> -          (code from stdin)

Runs code in the session's namespace and prints its output as it is produced
(stdout to stdout, stderr and tracebacks to stderr). The value of a final
expression is printed too: a str raw, anything else as repr().
Options go before the session name; everything after it is code, taken verbatim.
  --json    print one JSON object: cell_id, ok, value, error, duration, stdout, stderr
Exit status: 0 if the cell succeeded, 1 if it raised or the session is dead, 2 on usage errors.`;

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, session: string, code: string;
  try {
    const parsed = takeOptions(argv, { json: "flag" });
    opts = parsed.opts;
    if (!parsed.rest.length) throw new UsageError("pysh run <session> CODE");
    [session] = parsed.rest;
    code = codeFrom(parsed.rest.slice(1));
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    if (opts.json) {
      const streams: Record<number, Buffer[]> = { 1: [], 2: [] };
      const r = await client.run(session, code, { output: (s, d) => (streams[s] ?? streams[1]).push(Buffer.from(d)) });
      out(JSON.stringify({ ...r, stdout: Buffer.concat(streams[1]).toString("utf8"), stderr: Buffer.concat(streams[2]).toString("utf8") }));
      return r.ok ? EXIT_OK : EXIT_ERROR;
    }
    const printer = new CellPrinter();
    let r: CellOutcome;
    try {
      r = await client.run(session, code, { output: (s, d) => printer.write(s, d) });
    } finally {
      printer.finish();
    }
    return r.ok ? EXIT_OK : EXIT_ERROR;
  });
}
