// pysh status|vars|complete|kill|cells <session> : one request, one printed answer.
import { withClient, verb, out, EXIT_OK, UsageError, type Command } from "../common.js";
import { sessionName, remoteField } from "../options.js";
import { pyJson } from "../../util/py-json.js";

const USAGES: Record<string, string> = {
  status: "pysh status [--json] <session>",
  vars: "pysh vars [--json] <session>",
  complete: "pysh complete [--json] <session> <text>",
  kill: "pysh kill [--json] <session>",
  cells: "pysh cells [--json] <session>",
};

/** Said under every verb's help: the explicit form through a proxy. */
export const VIA_PROXY = `Through a proxy (pyctl connect), <session> is its alias; "<alias> <remote-session>"\nnames another session of the remote daemon.`;

const TEXTS: Record<string, string> = {
  status: `Session health as JSON: state (idle|running), running cell ids, number of\nvariables and cells, plus pid, queued cells, memory and last activity.`,
  vars: `Public names of the session namespace as JSON, in insertion order.`,
  complete: `Completions of <text> from the live namespace as JSON {"matches": [...]}.\nText that begins with "-" goes after --: pysh complete <session> -- -x`,
  kill: `Ends the session and its Python process. Its namespace is lost.`,
  cells: `Lists the session's cells with state, start time and duration, as JSON.`,
};

function query(name: string): Command {
  const usage = USAGES[name];
  const help = `usage: ${usage}\n\n${TEXTS[name]}\n${VIA_PROXY}\n--json: the reply as one line of JSON (errors too).`;
  return verb({ usage, help, options: { "--json": "flag" } }, async ({ args }, json) => {
    const want = name === "complete" ? 2 : 1;
    if (args.length !== want && args.length !== want + 1) throw new UsageError(`pysh ${name}: expected ${name === "complete" ? "<session> <text>" : "one session name"}, got ${args.length} argument(s)`, usage);
    const session = sessionName(args[0], usage);
    const via = remoteField(args, want - 1, usage);
    const text = args[args.length - 1];
    return withClient(async (client) => {
      const r = await client.request(name, { session, ...(name === "complete" ? { text } : {}), ...via });
      if (json) return out(JSON.stringify(name === "kill" ? { killed: session, ...r } : r)), EXIT_OK;
      switch (name) {
        case "status": {
          const { state, running, vars, cells, ...rest } = r;
          out(pyJson({ state, running, vars, cells, ...rest }));
          break;
        }
        case "kill":
          out(`OK killed ${via.remote ?? session}`);
          break;
        case "cells":
          out(JSON.stringify(r, null, 2));
          break;
        default:
          out(pyJson(r));
      }
      return EXIT_OK;
    }, json);
  });
}

export const status = query("status");
export const vars = query("vars");
export const complete = query("complete");
export const kill = query("kill");
export const cells = query("cells");
