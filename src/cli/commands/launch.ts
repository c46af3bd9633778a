// pysh fire|fork <session> CODE... : start a cell in the background and print its id at once.
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, UsageError, type Command } from "../common.js";
import { codeFrom } from "../code-source.js";
import { pyJson } from "../../util/py-json.js";

const HELPS = {
  fire: `usage: pysh fire <session> CODE...|-f FILE|-

Queues code on the session's one executor (it shares the namespace and runs after
whatever is running) and prints {"cell_id": ..., "status": "fired"} at once.
Follow it with: pysh poll --wait <session> <cell_id>`,
  fork: `usage: pysh fork <session> CODE...|-f FILE|-

Runs code in a forked child of the session (its own process group, a copy of the
namespace) and prints {"cell_id": ..., "status": "forked"} at once. When the child
ends without error, the public names it created or rebound are merged back if they
pickle (last writer wins); the others are listed in "skipped". A failed fork merges
nothing. In-place mutation (L.append) and del do not propagate.
Follow it with: pysh poll --wait <session> <cell_id>.  pysh int <session> kills it.`,
};

function launch(verb: "fire" | "fork"): Command {
  return async (argv) => {
    if (wantsHelp(argv)) return out(HELPS[verb]), EXIT_OK;
    let session: string, code: string;
    try {
      const { rest } = takeOptions(argv, {});
      if (!rest.length) throw new UsageError(`pysh ${verb} <session> CODE`);
      [session] = rest;
      code = codeFrom(rest.slice(1));
    } catch (e) {
      return report(e);
    }
    return withClient(async (client) => {
      const r = await client.request(verb, { session, code });
      out(pyJson({ cell_id: r.cell_id, status: r.status }));
      return EXIT_OK;
    });
  };
}

export const fire = launch("fire");
export const fork = launch("fork");
