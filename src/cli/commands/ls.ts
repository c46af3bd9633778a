// pysh ls : list sessions, one line each (0.4's format), or everything known with --json.
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, UsageError } from "../common.js";

export const HELP = `usage: pysh ls [--json]

Lists sessions: "  <name>: alive pid=<pid> (pty)", with " busy" appended while a
cell runs, or "DEAD" for a session whose agent died. --json adds interpreter,
cwd, pid, state, running cells, last activity and memory.`;

export async function ls(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>;
  try {
    const parsed = takeOptions(argv, { json: "flag" });
    if (parsed.rest.length) throw new UsageError("pysh ls [--json]");
    opts = parsed.opts;
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    const { sessions } = await client.request("ls");
    if (opts.json) return out(JSON.stringify(sessions, null, 2)), EXIT_OK;
    if (!sessions.length) return out("(no sessions)"), EXIT_OK;
    out(
      sessions
        .map((s: any) => `  ${s.name}: ${s.state === "alive" ? "alive" : "DEAD"} pid=${s.pid} (pty)${s.busy ? " busy" : ""}`)
        .join("\n"),
    );
    return EXIT_OK;
  });
}
