// pysh status|vars|complete|kill|cells <session> : one request, one printed answer.
import { withClient, wantsHelp, out, report, EXIT_OK, UsageError, type Command } from "../common.js";
import { pyJson } from "../../util/py-json.js";

const HELPS: Record<string, string> = {
  status: `usage: pysh status <session>\n\nSession health as JSON: state (idle|running), running cell ids, number of\nvariables and cells, plus pid, queued cells, memory and last activity.`,
  vars: `usage: pysh vars <session>\n\nPublic names of the session namespace as JSON, in insertion order.`,
  complete: `usage: pysh complete <session> <text>\n\nCompletions of <text> from the live namespace as JSON {"matches": [...]}.`,
  kill: `usage: pysh kill <session>\n\nEnds the session and its Python process. Its namespace is lost.`,
  cells: `usage: pysh cells <session>\n\nLists the session's cells with state, start time and duration, as JSON.`,
};

function query(verb: string): Command {
  return async (argv) => {
    if (wantsHelp(argv)) return out(HELPS[verb]), EXIT_OK;
    const want = verb === "complete" ? [2, 2] : [1, 1];
    if (argv.length < want[0] || argv.length > want[1]) {
      return report(new UsageError(verb === "complete" ? "pysh complete <session> <text>" : `pysh ${verb} <session>`));
    }
    const [session, text] = argv;
    return withClient(async (client) => {
      const r = await client.request(verb, { session, text });
      switch (verb) {
        case "status": {
          const { state, running, vars, cells, ...rest } = r;
          out(pyJson({ state, running, vars, cells, ...rest }));
          break;
        }
        case "kill":
          out(`OK killed ${session}`);
          break;
        case "cells":
          out(JSON.stringify(r, null, 2));
          break;
        default:
          out(pyJson(r));
      }
      return EXIT_OK;
    });
  };
}

export const status = query("status");
export const vars = query("vars");
export const complete = query("complete");
export const kill = query("kill");
export const cells = query("cells");
