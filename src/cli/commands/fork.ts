// pysh fork <session> CODE... : run code in a forked copy of the session (POSIX), return at once.
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, UsageError } from "../common.js";
import { codeFrom } from "../code-source.js";
import { pyJson } from "../../util/py-json.js";

export const HELP = `usage: pysh fork <session> CODE...|-f FILE|-

Runs code in a forked child of the session (its own process group, a copy of the
namespace) and prints {"cell_id": ..., "status": "forked"} at once. When the child
ends without error, the public names it created or rebound are merged back if they
pickle (last writer wins); the others are listed in "skipped". A failed fork merges
nothing. In-place mutation (L.append) and del do not propagate.
Follow it with: pysh poll --wait <session> <cell_id>.  pysh int <session> kills it.`;

export async function fork(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let session: string, code: string;
  try {
    const { rest } = takeOptions(argv, {});
    if (!rest.length) throw new UsageError("pysh fork <session> CODE");
    [session] = rest;
    code = codeFrom(rest.slice(1));
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    const r = await client.request("fork", { session, code });
    out(pyJson({ cell_id: r.cell_id, status: r.status }));
    return EXIT_OK;
  });
}
