// pysh run <session> CODE...|-f FILE|-  : run a cell, stream its output, exit 1 if it raised.
import { connect, verb, out, report, errorType, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { seconds, sessionName } from "../options.js";
import { codeArgs, inputFrom, type Via } from "../code-source.js";
import { CellPrinter } from "../output.js";
import type { CellOutcome, Client } from "../../client/client.js";
import { DaemonRequestError } from "../../client/errors.js";
import { StringDecoder } from "node:string_decoder";
import { randomHex } from "../../util/random.js";
import { STDOUT_STREAM, STDERR_STREAM } from "../../wire/structured.js";

const USAGE = `pysh run [--json] [--timeout SECONDS] [--stdin FILE] <session> CODE...
pysh run [--json] [--timeout SECONDS] [--stdin FILE] <session> -f FILE
pysh run [--json] [--timeout SECONDS] <session> -          (code from stdin)`;

export const HELP = `usage: ${USAGE.replace(/\n/g, "\n       ")}

Runs code in the session's namespace and prints its output as it is produced
(stdout to stdout, stderr and tracebacks to stderr). The value of a final
expression is printed too: a str raw, anything else as repr().
Options go before the session name; everything after it is code, taken verbatim.
-f FILE and - read source as Python does: a PEP 263 coding line or a UTF-8 BOM is honoured.
There is no built-in time limit on a cell.
  --json          stream JSON lines: {"stream": "stdout"|"stderr", "text": ...} as output
                  comes, then one object: cell_id, ok, value, error, duration, stdout,
                  stderr (and "images": [png paths] for image values); an error of pysh or
                  the daemon is {"error": {"type", "message"}, "cell_id"}
  --stdin FILE    what the cell's input() and sys.stdin read (- for pysh's own stdin);
                  without it an agent cell has no stdin and input() fails at once
  --timeout S     stop waiting after S seconds: the cell keeps running in the session,
                  its id is printed to stderr (pick it up with: pysh poll --wait <session> <id>;
                  nothing of its output is lost) and pysh exits 124
Ctrl-C interrupts the cell (KeyboardInterrupt, as in a terminal); a second Ctrl-C stops
waiting and leaves the cell running, printing its id and the poll command.
An image value (matplotlib figure, PIL image, _repr_png_) is saved as PNG under
~/.pythond/sessions/<session>/images and shown as "[image: PATH]".
Exit status: 0 if the cell succeeded, 1 if it raised or the session is dead, 2 on usage
errors, 124 on --timeout, 130 after Ctrl-C.`;

export const EXIT_TIMEOUT = 124;
export const EXIT_SIGINT = 130;

/** Errors that come before a cell exists: they carry no cell id. */
const BEFORE_CELL = new Set(["no_session", "invalid_name", "bad_request", "too_large", "unknown_op"]);

/** Why run stopped waiting without the cell's outcome. */
type GaveUp = { gaveUp: "timeout" | "detached" };

export const run = verb(
  { usage: USAGE, help: HELP, options: { "--json": "flag", "--timeout": "value", "--stdin": "value" }, verbatimAfter: 1 },
  async ({ opts, args }, json) => {
    const timeout = seconds(opts.timeout, "--timeout", USAGE, { above: true });
    if (!args.length) throw new UsageError("pysh run: no session name given", USAGE);
    const session = sessionName(args[0], USAGE);
    const { code, via } = codeArgs(args.slice(1));
    let stdin: string | undefined;
    if (opts.stdin !== undefined) {
      if (opts.stdin === "-" && args[1] === "-" && args.length === 2) throw new UsageError("pysh run: the code and --stdin cannot both come from stdin", USAGE);
      stdin = inputFrom(opts.stdin);
    }
    // The cell is named here, so that every way of giving up can say how to pick it up.
    const cellId = randomHex(6);
    const hint = `pysh poll --wait ${session} ${cellId}`;
    let client: Client | undefined;
    let onSigint: (() => void) | undefined;
    let interrupted = false;
    try {
      client = await connect();
      const c = client;
      const giveUp = new Promise<GaveUp>((resolve) => {
        if (timeout !== undefined) setTimeout(() => resolve({ gaveUp: "timeout" }), timeout * 1000).unref();
        let presses = 0;
        onSigint = () => {
          presses++;
          interrupted = true;
          if (presses === 1) {
            process.stderr.write(`\npysh: interrupting cell ${cellId} (Ctrl-C again to stop waiting and leave it running)\n`);
            void interruptOwnCell(c, session, cellId, via);
          } else resolve({ gaveUp: "detached" });
        };
        process.on("SIGINT", onSigint);
      });
      const r = json ? await runJson(c, session, code, cellId, giveUp, stdin, via) : await runText(c, session, code, cellId, giveUp, stdin, via);
      if ("gaveUp" in r) {
        if (r.gaveUp === "timeout") {
          if (json) out(JSON.stringify({ event: "timeout", cell_id: cellId, timeout }));
          process.stderr.write(`pysh: timeout after ${timeout} s; cell ${cellId} keeps running: ${hint}\n`);
          return EXIT_TIMEOUT;
        }
        if (json) out(JSON.stringify({ event: "detached", cell_id: cellId }));
        process.stderr.write(`pysh: stopped waiting; cell ${cellId} keeps running: ${hint}\n`);
        return EXIT_SIGINT;
      }
      // Ended by our Ctrl-C: interrupted while running, or dropped while still queued.
      if (interrupted && r.error?.type === "Cancelled") {
        if (!json) process.stderr.write(`pysh: cell ${cellId} was still queued: Cancelled, it never ran\n`);
        return EXIT_SIGINT;
      }
      if (interrupted && r.error?.type === "KeyboardInterrupt") return EXIT_SIGINT;
      return r.ok ? EXIT_OK : EXIT_ERROR;
    } catch (e) {
      const known = !(e instanceof DaemonRequestError && BEFORE_CELL.has(e.code)) && client !== undefined;
      if (known && !json && errorType(e) === "connection_lost") {
        // The daemon went away mid-cell; the agent (and the cell) may live on under the next one.
        process.stderr.write(`ERR ${(e as Error).message}; cell ${cellId} may still run: pysh poll ${session} ${cellId}\n`);
        return EXIT_ERROR;
      }
      return report(e, json, known ? { cell_id: cellId } : {});
    } finally {
      if (onSigint) process.off("SIGINT", onSigint);
      client?.close();
    }
  },
);

/** A queued cell is dropped; a running one gets KeyboardInterrupt (without waiting for it). */
async function interruptOwnCell(c: Client, session: string, cellId: string, via: Via): Promise<void> {
  try {
    await c.request("cancel", { session, cell: cellId, ...via });
  } catch {
    try {
      await c.request("int", { session, wait: false, ...via });
    } catch (e) {
      process.stderr.write(`pysh: could not interrupt: ${(e as Error).message}\n`);
    }
  }
}

async function runText(c: Client, session: string, code: string, cellId: string, giveUp: Promise<GaveUp>, stdin?: string, via?: Via): Promise<CellOutcome | GaveUp> {
  const printer = new CellPrinter();
  try {
    return await Promise.race([c.run(session, code, { output: (s, d) => printer.write(s, d) }, cellId, stdin, via), giveUp]);
  } finally {
    printer.finish();
  }
}

async function runJson(c: Client, session: string, code: string, cellId: string, giveUp: Promise<GaveUp>, stdin?: string, via?: Via): Promise<CellOutcome | GaveUp> {
  const streams: Record<number, Buffer[]> = { [STDOUT_STREAM]: [], [STDERR_STREAM]: [] };
  const decoders: Record<number, StringDecoder> = { [STDOUT_STREAM]: new StringDecoder("utf8"), [STDERR_STREAM]: new StringDecoder("utf8") };
  const output = (s: number, d: Buffer) => {
    const k = s === STDERR_STREAM ? STDERR_STREAM : STDOUT_STREAM;
    streams[k].push(Buffer.from(d));
    const text = decoders[k].write(Buffer.from(d));
    if (text) out(JSON.stringify({ stream: k === STDERR_STREAM ? "stderr" : "stdout", text }));
  };
  const r = await Promise.race([c.run(session, code, { output }, cellId, stdin, via), giveUp]);
  if ("gaveUp" in r) return r;
  out(JSON.stringify({ ...r, stdout: Buffer.concat(streams[STDOUT_STREAM]).toString("utf8"), stderr: Buffer.concat(streams[STDERR_STREAM]).toString("utf8") }));
  return r;
}
