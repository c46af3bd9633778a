// pysh restart <session> [--replay] : a fresh interpreter with the same name, python, cwd and env.
import { withClient, verb, out, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { sessionName, remoteField } from "../options.js";

const USAGE = "pysh restart [--replay] [--json] <session>";

export const HELP = `usage: ${USAGE}

Replaces the session's interpreter with a fresh one (same name, interpreter, cwd
and environment); the old namespace is discarded. Works on a dead session too
(e.g. after an interrupt had to kill a stuck agent).
  --replay   re-run ~/.pythond/sessions/<session>/history.py (the successful cells),
             cell by cell, in the new interpreter; its output goes to stderr (the first
             64 KiB, then a line saying how much was left out). Cells that need a
             terminal (input(), getpass, breakpoint(), ...) are skipped and listed. The
             replay stops at the first cell that fails and says which one.
  --json     print the whole reply as JSON
Prints: OK <session> pid=<pid> [replayed N cells ...]. Exit 1 if a replayed cell raised.`;

export const restart = verb({ usage: USAGE, help: HELP, options: { "--replay": "flag", "--json": "flag" } }, async ({ opts, args }, json) => {
  if (args.length !== 1 && args.length !== 2) throw new UsageError(`pysh restart: expected one session name, got ${args.length}`, USAGE);
  const session = sessionName(args[0], USAGE);
  const via = remoteField(args, 0, USAGE);
  return withClient(async (client) => {
    const r = await client.request("restart", { session, replay: opts.replay === true, ...via });
    const failed = r.replayed && r.ok === false;
    if (json) return out(JSON.stringify(r)), failed ? EXIT_ERROR : EXIT_OK;
    if (r.replayed && r.output) process.stderr.write(String(r.output).replace(/\n*$/, "\n"));
    for (const s of r.skipped ?? []) process.stderr.write(`pysh: replay skipped cell ${s.cell} (${s.reason}): ${s.code}\n`);
    if (failed && r.failed) {
      const f = r.failed;
      const err = f.error ? `${f.error.type}: ${f.error.message}` : "failed";
      process.stderr.write(`pysh: replay stopped at cell ${f.cell} of ${r.cells} (${f.code}): ${err}; ${f.not_replayed} later cell(s) not replayed\n`);
    }
    let note = "";
    if (r.replayed) {
      const skipped = r.skipped?.length ? `, ${r.skipped.length} skipped` : "";
      note = failed ? ` replay failed (${r.ran - 1} of ${r.cells} cells replayed${skipped})` : ` replayed ${r.ran} of ${r.cells} cells${skipped}`;
    } else if (opts.replay) note = ` (not replayed: ${r.replay_note})`;
    out(`OK ${r.name} pid=${r.pid}${note}`);
    return failed ? EXIT_ERROR : EXIT_OK;
  }, json);
});
