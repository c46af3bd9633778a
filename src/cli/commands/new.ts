// pysh new <session> : create a session (refuses an existing live one unless --replace).
import { withClient, verb, out, EXIT_OK, UsageError } from "../common.js";
import { seconds, sessionName, remoteField } from "../options.js";

const USAGE = "pysh new [--replace] [--python PATH] [--cwd DIR] [--env K=V]... [--int-grace S] [--json] <session>";

export const HELP = `usage: ${USAGE}

Creates a named Python session. Names: a-z, 0-9, _ and -, 1 to 80 characters, not
beginning with "-". Options may come before or after the name.
An existing live session is never replaced silently: pass --replace to discard it.
  --python PATH   interpreter for this session (a virtualenv's python works; 3.9 or newer)
  --cwd DIR       working directory of the session (must exist)
  --env K=V       extra environment variable (repeatable)
  --int-grace S   seconds an interrupted cell gets before its agent is killed (default 5)
  --json          print the reply as JSON (errors too)
Through a proxy (pyctl connect), the session starts on the remote daemon:
pysh new <alias> (its session of that name) or pysh new <alias> <remote-session>.
Prints: OK <session> pid=<pid>`;

export const newSession = verb(
  {
    usage: USAGE,
    help: HELP,
    options: { "--replace": "flag", "--python": "value", "--cwd": "value", "--env": "list", "--json": "flag", "--int-grace": "value" },
  },
  async ({ opts, args }, json) => {
    if (args.length !== 1 && args.length !== 2) throw new UsageError(`pysh new: expected one session name, got ${args.length}`, USAGE);
    const session = sessionName(args[0], USAGE);
    const via = remoteField(args, 0, USAGE);
    const intGrace = seconds(opts["int-grace"], "--int-grace", USAGE);
    const env: Record<string, string> = {};
    for (const kv of opts.env ?? []) {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new UsageError(`pysh new: --env wants K=V (got ${JSON.stringify(kv)})`, USAGE);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    let cwd: string | undefined;
    if (opts.cwd !== undefined) {
      const { resolve } = await import("node:path");
      cwd = resolve(opts.cwd);
    }
    return withClient(async (client) => {
      const r = await client.request("new", {
        session,
        replace: opts.replace === true,
        python: opts.python,
        cwd,
        env: Object.keys(env).length ? env : undefined,
        int_grace: intGrace,
        ...via,
      });
      out(json ? JSON.stringify(r) : `OK ${r.name} pid=${r.pid}`);
      return EXIT_OK;
    }, json);
  },
);
