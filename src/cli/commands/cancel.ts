// pysh cancel <session> <cell_id> : drop a queued cell (fire, or a run waiting its turn).
import { withClient, verb, out, EXIT_OK, UsageError } from "../common.js";
import { sessionName, remoteField } from "../options.js";

const USAGE = "pysh cancel [--json] <session> <cell_id>";

export const HELP = `usage: ${USAGE}

Drops a cell that is still queued behind the running one, so it never runs: a
fire cell, or a run another client is waiting for (that client gets the error
Cancelled). A cell that is already running is interrupted with pysh int instead.
Exit 0 when the cell was cancelled, 1 if it is not queued (running, done or unknown).`;

export const cancel = verb({ usage: USAGE, help: HELP, options: { "--json": "flag" } }, async ({ args }, json) => {
  if (args.length !== 2 && args.length !== 3) throw new UsageError(`pysh cancel: expected <session> <cell_id>, got ${args.length} argument(s)`, USAGE);
  const session = sessionName(args[0], USAGE);
  const via = remoteField(args, 1, USAGE);
  const cell = args[args.length - 1];
  return withClient(async (client) => {
    const r = await client.request("cancel", { session, cell, ...via });
    out(json ? JSON.stringify({ cell_id: cell, cancelled: true, ...r }) : `OK cancelled ${cell}`);
    return EXIT_OK;
  }, json);
});
