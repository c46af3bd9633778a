// pysh ls : one line per session (as pythond 0.4 printed them, sorted by name), or everything known with --json.
import { withClient, verb, out, EXIT_OK, UsageError } from "../common.js";

const USAGE = "pysh ls [--json] [--remote [ALIAS]]";

export const HELP = `usage: ${USAGE}

Lists sessions, sorted by name: "  <name>: alive pid=<pid> (pty)", with " busy" appended
while a cell runs, or "DEAD" for a session whose agent died; a session that does not run on
this machine says where (" on ssh web01"). A proxy (pyctl connect) is
"  <alias>: -> <host>:<port>[ tls] (remote) connected|reconnecting [<rtt> ms]".
--json adds interpreter, cwd, pid, state, running cells, last activity and memory (and
a proxy's link: address, state, since, last_error, rtt_ms).
--remote lists the sessions of each proxy's remote daemon (or of ALIAS's only).`;

function line(s: any): string {
  if (s.proxy) {
    const p = s.proxy;
    return `  ${s.name}: -> ${p.address}${p.tls ? " tls" : ""} (remote) ${p.state}${p.rtt_ms !== null && p.state === "connected" ? ` ${p.rtt_ms} ms` : ""}${s.busy ? " busy" : ""}`;
  }
  return `  ${s.name}: ${s.state === "alive" ? "alive" : "DEAD"} pid=${s.pid} (pty)${s.where && s.where !== "local" ? ` on ${s.where}` : ""}${s.busy ? " busy" : ""}`;
}

export const ls = verb({ usage: USAGE, help: HELP, options: { "--json": "flag", "--remote": "flag" } }, async ({ opts, args }, json) => {
  if (args.length > (opts.remote ? 1 : 0)) throw new UsageError(`pysh ls: takes no arguments (got ${JSON.stringify(args[0])})`, USAGE);
  return withClient(async (client) => {
    if (opts.remote) {
      const aliases = args.length ? args : ((await client.request("ls")).sessions as any[]).filter((s) => s.proxy).map((s) => s.name);
      const all: Record<string, unknown> = {};
      const lines: string[] = [];
      for (const alias of aliases) {
        const { sessions } = await client.request("ls", { remote: alias });
        all[alias] = sessions;
        lines.push(`${alias}:`, ...(sessions.length ? sessions.map((s: any) => `  ${line(s)}`) : ["    (no sessions)"]));
      }
      out(json ? JSON.stringify(all, null, 2) : lines.length ? lines.join("\n") : "(no proxies)");
      return EXIT_OK;
    }
    const { sessions } = await client.request("ls");
    if (json) return out(JSON.stringify(sessions, null, 2)), EXIT_OK;
    if (!sessions.length) return out("(no sessions)"), EXIT_OK;
    out(sessions.map(line).join("\n"));
    return EXIT_OK;
  }, json);
});
