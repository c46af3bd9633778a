// pysh fire <session> CODE... : queue a cell on the session's executor and return at once.
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, UsageError } from "../common.js";
import { codeFrom } from "../code-source.js";
import { pyJson } from "../../util/py-json.js";

export const HELP = `usage: pysh fire <session> CODE...|-f FILE|-

Queues code on the session's one executor (it shares the namespace and runs after
whatever is running) and prints {"cell_id": ..., "status": "fired"} at once.
Follow it with: pysh poll <session> <cell_id>`;

export async function fire(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let session: string, code: string;
  try {
    const { rest } = takeOptions(argv, {});
    if (!rest.length) throw new UsageError("pysh fire <session> CODE");
    [session] = rest;
    code = codeFrom(rest.slice(1));
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    const r = await client.request("fire", { session, code });
    out(pyJson({ cell_id: r.cell_id, status: r.status }));
    return EXIT_OK;
  });
}
