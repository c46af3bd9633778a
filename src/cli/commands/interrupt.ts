// pysh int <session> : interrupt the running cell; escalate if it ignores the interrupt.
import { withClient, verb, out, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { seconds, sessionName, remoteField } from "../options.js";

const USAGE = "pysh int [--grace SECONDS] [--no-wait] [--json] <session>";

export const HELP = `usage: ${USAGE}

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

export const interrupt = verb(
  { usage: USAGE, help: HELP, options: { "--grace": "value", "--no-wait": "flag", "--json": "flag" } },
  async ({ opts, args }, json) => {
    if (args.length !== 1 && args.length !== 2) throw new UsageError(`pysh int: expected one session name, got ${args.length}`, USAGE);
    const session = sessionName(args[0], USAGE);
    const via = remoteField(args, 0, USAGE);
    const grace = seconds(opts.grace, "--grace", USAGE, { max: 24 * 3600 });
    return withClient(async (client) => {
      const r = await client.request("int", { session, grace, wait: !opts["no-wait"], ...via });
      if (json) out(JSON.stringify(r));
      else if (r.outcome === "idle") out(`OK no running cells in ${session}`);
      else if (r.outcome === "escalated") process.stderr.write(`ERR int ${session}: ${r.message}\n`);
      else out(`OK int ${session}: ${r.message}${r.processes && r.interrupted ? `; killed ${r.processes} fork process group(s)` : ""}`);
      return r.outcome === "escalated" ? EXIT_ERROR : EXIT_OK;
    }, json);
  },
);
