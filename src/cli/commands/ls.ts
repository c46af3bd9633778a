// pysh ls : one line per session (as pythond 0.4 printed them, sorted by name), or everything known with --json.
import { withClient, verb, out, EXIT_OK, UsageError } from "../common.js";

const USAGE = "pysh ls [--json]";

export const HELP = `usage: ${USAGE}

Lists sessions, sorted by name: "  <name>: alive pid=<pid> (pty)", with " busy" appended
while a cell runs, or "DEAD" for a session whose agent died; a session that does not run on
this machine says where (" on ssh web01"). --json adds interpreter,
cwd, pid, state, running cells, last activity and memory.`;

export const ls = verb({ usage: USAGE, help: HELP, options: { "--json": "flag" } }, async ({ args }, json) => {
  if (args.length) throw new UsageError(`pysh ls: takes no arguments (got ${JSON.stringify(args[0])})`, USAGE);
  return withClient(async (client) => {
    const { sessions } = await client.request("ls");
    if (json) return out(JSON.stringify(sessions, null, 2)), EXIT_OK;
    if (!sessions.length) return out("(no sessions)"), EXIT_OK;
    out(
      sessions
        .map((s: any) => `  ${s.name}: ${s.state === "alive" ? "alive" : "DEAD"} pid=${s.pid} (pty)${s.where && s.where !== "local" ? ` on ${s.where}` : ""}${s.busy ? " busy" : ""}`)
        .join("\n"),
    );
    return EXIT_OK;
  }, json);
});
