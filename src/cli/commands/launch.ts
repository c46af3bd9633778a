// pysh fire|fork <session> CODE... : start a cell in the background and print its id at once.
import { withClient, verb, out, EXIT_OK, UsageError, type Command } from "../common.js";
import { sessionName } from "../options.js";
import { codeArgs } from "../code-source.js";
import { pyJson } from "../../util/py-json.js";

const USAGES = {
  fire: "pysh fire [--json] <session> CODE...|-f FILE|-",
  fork: "pysh fork [--json] <session> CODE...|-f FILE|-",
};

const HELPS = {
  fire: `usage: ${USAGES.fire}

Queues code on the session's one executor (it shares the namespace and runs after
whatever is running) and prints {"cell_id": ..., "status": "fired"} at once.
Follow it with: pysh poll --wait <session> <cell_id>`,
  fork: `usage: ${USAGES.fork}

Runs code in a forked child of the session (its own process group, a copy of the
namespace) and prints {"cell_id": ..., "status": "forked"} at once. When the child
ends without error, the public names it created or rebound are merged back if they
pickle (last writer wins); the others are listed in "skipped". A failed fork merges
nothing. In-place mutation (L.append) and del do not propagate.
Follow it with: pysh poll --wait <session> <cell_id>.  pysh int <session> kills it.`,
};

function launch(name: "fire" | "fork"): Command {
  const usage = USAGES[name];
  return verb({ usage, help: HELPS[name], options: { "--json": "flag" }, verbatimAfter: 1 }, async ({ args }, json) => {
    if (!args.length) throw new UsageError(`pysh ${name}: no session name given`, usage);
    const session = sessionName(args[0], usage);
    const { code, via } = codeArgs(args.slice(1));
    return withClient(async (client) => {
      const r = await client.request(name, { session, code, ...via });
      out(json ? JSON.stringify({ cell_id: r.cell_id, status: r.status }) : pyJson({ cell_id: r.cell_id, status: r.status }));
      return EXIT_OK;
    }, json);
  });
}

export const fire = launch("fire");
export const fork = launch("fork");
