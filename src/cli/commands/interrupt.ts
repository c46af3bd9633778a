// pysh int <session> : interrupt the running cell; escalate if it ignores the interrupt.
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";

export const HELP = `usage: pysh int [--grace SECONDS] [--no-wait] [--json] <session>

Interrupts whatever runs in the session: the executor's cell (run, fire or a human
line) gets KeyboardInterrupt, even inside time.sleep, a socket read or a lock
wait; every fork cell's process group is killed. If the cell has not stopped
after the grace period (default 5 s; per session: pysh new --int-grace; daemon:
PYTHOND_INT_GRACE), the daemon kills the session's agent and says so: the
namespace is then lost (pysh restart <session>).
  --grace S   grace period for this call
  --no-wait   answer at once; the escalation still happens in the background
  --json      print the report as JSON
Exit 0 when the cell stopped (or nothing ran), 1 when the agent had to be killed.`;

export async function interrupt(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, session: string;
  try {
    const parsed = takeOptions(argv, { grace: "value", "no-wait": "flag", json: "flag" });
    opts = parsed.opts;
    if (parsed.rest.length !== 1) throw new UsageError("pysh int [--grace SECONDS] <session>");
    [session] = parsed.rest;
    if (opts.grace !== undefined && !(Number(opts.grace) >= 0)) throw new UsageError("--grace wants a number of seconds");
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    const r = await client.request("int", { session, grace: opts.grace === undefined ? undefined : Number(opts.grace), wait: !opts["no-wait"] });
    if (opts.json) out(JSON.stringify(r));
    else if (r.outcome === "idle") out(`OK no running cells in ${session}`);
    else if (r.outcome === "escalated") process.stderr.write(`ERR int ${session}: ${r.message}\n`);
    else out(`OK int ${session}: ${r.message}${r.processes && r.interrupted ? `; killed ${r.processes} fork process group(s)` : ""}`);
    return r.outcome === "escalated" ? EXIT_ERROR : EXIT_OK;
  });
}
