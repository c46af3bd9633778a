// pysh run <session> CODE...|-f FILE|-  : run a cell, stream its output, exit 1 if it raised.
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { codeFrom } from "../code-source.js";
import { CellPrinter } from "../output.js";
import type { CellOutcome } from "../../client/client.js";
import { StringDecoder } from "node:string_decoder";
import { randomHex } from "../../util/random.js";

export const HELP = `usage: pysh run [--json] [--timeout SECONDS] <session> CODE...
       pysh run [--json] [--timeout SECONDS] <session> -f FILE
       pysh run [--json] [--timeout SECONDS] <session> -          (code from stdin)

Runs code in the session's namespace and prints its output as it is produced
(stdout to stdout, stderr and tracebacks to stderr). The value of a final
expression is printed too: a str raw, anything else as repr().
Options go before the session name; everything after it is code, taken verbatim.
There is no built-in time limit on a cell.
  --json          stream JSON lines: {"stream": "stdout"|"stderr", "text": ...} as output
                  comes, then one object: cell_id, ok, value, error, duration, stdout,
                  stderr (and "images": [png paths] for image values)
  --timeout S     stop waiting after S seconds: the cell keeps running in the session,
                  its id is printed to stderr (pick it up with: pysh poll --wait <session> <id>;
                  nothing of its output is lost) and pysh exits 124
An image value (matplotlib figure, PIL image, _repr_png_) is saved as PNG under
~/.pythond/sessions/<session>/images and shown as "[image: PATH]".
Exit status: 0 if the cell succeeded, 1 if it raised or the session is dead, 2 on usage
errors, 124 on --timeout.`;

export const EXIT_TIMEOUT = 124;

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, session: string, code: string;
  try {
    const parsed = takeOptions(argv, { json: "flag", timeout: "value" });
    opts = parsed.opts;
    if (opts.timeout !== undefined && !(Number(opts.timeout) > 0 && Number(opts.timeout) <= 7 * 24 * 3600)) {
      throw new UsageError("--timeout wants seconds (> 0)");
    }
    if (!parsed.rest.length) throw new UsageError("pysh run <session> CODE");
    [session] = parsed.rest;
    code = codeFrom(parsed.rest.slice(1));
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    // With a timeout we name the cell, so that we can say how to pick it up after giving up.
    const cellId = opts.timeout === undefined ? undefined : randomHex(6);
    // Resolves with null when --timeout expires first: the cell goes on in the session.
    const bounded = <T>(p: Promise<T>): Promise<T | null> => {
      if (opts.timeout === undefined) return p;
      return new Promise<T | null>((resolve, reject) => {
        const timer = setTimeout(() => resolve(null), Number(opts.timeout) * 1000);
        p.then((v) => (clearTimeout(timer), resolve(v)), (e) => (clearTimeout(timer), reject(e)));
      });
    };
    const timedOut = () => {
      if (opts.json) out(JSON.stringify({ event: "timeout", cell_id: cellId, timeout: Number(opts.timeout) }));
      process.stderr.write(`pysh: timeout after ${opts.timeout} s; cell ${cellId} keeps running: pysh poll --wait ${session} ${cellId}\n`);
      return EXIT_TIMEOUT;
    };
    if (opts.json) {
      const streams: Record<number, Buffer[]> = { 1: [], 2: [] };
      const decoders: Record<number, StringDecoder> = { 1: new StringDecoder("utf8"), 2: new StringDecoder("utf8") };
      const r = await bounded(
        client.run(
          session,
          code,
          {
            output: (s, d) => {
              const k = s === 2 ? 2 : 1;
              streams[k].push(Buffer.from(d));
              const text = decoders[k].write(Buffer.from(d));
              if (text) out(JSON.stringify({ stream: k === 2 ? "stderr" : "stdout", text }));
            },
          },
          cellId,
        ),
      );
      if (r === null) return timedOut();
      out(JSON.stringify({ ...r, stdout: Buffer.concat(streams[1]).toString("utf8"), stderr: Buffer.concat(streams[2]).toString("utf8") }));
      return r.ok ? EXIT_OK : EXIT_ERROR;
    }
    const printer = new CellPrinter();
    let r: CellOutcome | null;
    try {
      r = await bounded(client.run(session, code, { output: (s, d) => printer.write(s, d) }, cellId));
    } finally {
      printer.finish();
    }
    if (r === null) return timedOut();
    return r.ok ? EXIT_OK : EXIT_ERROR;
  });
}
