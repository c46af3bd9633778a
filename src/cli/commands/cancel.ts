// pysh cancel <session> <cell_id> : drop a queued cell (fire, or a run waiting its turn).
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, UsageError } from "../common.js";

export const HELP = `usage: pysh cancel <session> <cell_id>

Drops a cell that is still queued behind the running one, so it never runs: a
fire cell, or a run another client is waiting for (that client gets the error
Cancelled). A cell that is already running is interrupted with pysh int instead.
Exit 0 when the cell was cancelled, 1 if it is not queued (running, done or unknown).`;

export async function cancel(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let session: string, cell: string;
  try {
    const parsed = takeOptions(argv, {});
    if (parsed.rest.length !== 2) throw new UsageError("pysh cancel <session> <cell_id>");
    [session, cell] = parsed.rest;
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    await client.request("cancel", { session, cell });
    out(`OK cancelled ${cell}`);
    return EXIT_OK;
  });
}
