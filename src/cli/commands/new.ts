// pysh new <session> : create a session (refuses an existing live one unless --replace).
import { withClient, verb, out, EXIT_OK, UsageError } from "../common.js";
import { seconds, sessionName, remoteField } from "../options.js";

const USAGE = "pysh new [--replace] [--via CMD [--idle-ttl T]] [--python PATH] [--cwd DIR] [--env K=V]... [--int-grace S] [--json] <session>";

export const HELP = `usage: ${USAGE}

Creates a named Python session. Names: a-z, 0-9, _ and -, 1 to 80 characters, not
beginning with "-". Options may come before or after the name.
An existing live session is never replaced silently: pass --replace to discard it.
  --python PATH   interpreter for this session (a virtualenv's python works; 3.9 or newer)
  --cwd DIR       working directory of the session (must exist)
  --env K=V       extra environment variable (repeatable)
  --int-grace S   seconds an interrupted cell gets before its agent is killed (default 5)
  --via CMD       run the session on another host: CMD is any command that reaches a python3
                  there ("ssh web01", "ssh -p 2222 me@host", "docker exec -i box",
                  "sudo -u svc", "env K=V"). Nothing needs to be installed there. The agent
                  outlives the connection; the daemon re-joins it after a drop. With --via,
                  --python names the interpreter there (default python3) and --cwd a
                  directory there
  --idle-ttl T    with --via: how long the agent waits for a daemon to re-join it before it
                  ends (seconds, or 30m, 24h, 7d; default 24h)
  --json          print the reply as JSON (errors too)
Through a proxy (pyctl connect), the session starts on the remote daemon:
pysh new <alias> (its session of that name) or pysh new <alias> <remote-session>.
Prints: OK <session> pid=<pid>, and " on <where>" for a session --via another host`;

export const newSession = verb(
  {
    usage: USAGE,
    help: HELP,
    options: { "--replace": "flag", "--python": "value", "--cwd": "value", "--env": "list", "--json": "flag", "--int-grace": "value", "--via": "value", "--idle-ttl": "value" },
  },
  async ({ opts, args }, json) => {
    if (args.length !== 1 && args.length !== 2) throw new UsageError(`pysh new: expected one session name, got ${args.length}`, USAGE);
    const session = sessionName(args[0], USAGE);
    const target = remoteField(args, 0, USAGE); // through a proxy: which remote session
    const intGrace = seconds(opts["int-grace"], "--int-grace", USAGE);
    const env: Record<string, string> = {};
    for (const kv of opts.env ?? []) {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new UsageError(`pysh new: --env wants K=V (got ${JSON.stringify(kv)})`, USAGE);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    let via: string[] | undefined;
    if (opts.via !== undefined) {
      const { splitWords } = await import("../words.js");
      try {
        via = splitWords(opts.via);
      } catch (e) {
        throw new UsageError(`pysh new: --via: ${(e as Error).message}`, USAGE);
      }
      if (!via.length) throw new UsageError("pysh new: --via wants a command (e.g. --via \"ssh web01\")", USAGE);
    }
    let idleTtl: number | undefined;
    if (opts["idle-ttl"] !== undefined) {
      const { durationSeconds } = await import("../words.js");
      if (!via) throw new UsageError("pysh new: --idle-ttl applies to a session made --via another host", USAGE);
      idleTtl = durationSeconds(opts["idle-ttl"]);
      if (idleTtl === undefined) throw new UsageError(`pysh new: --idle-ttl wants seconds or 30m, 24h, 7d (got ${JSON.stringify(opts["idle-ttl"])})`, USAGE);
    }
    let cwd: string | undefined;
    if (opts.cwd !== undefined && via) cwd = opts.cwd; // a directory on the far side
    else if (opts.cwd !== undefined) {
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
        ...(via ? { via, idle_ttl: idleTtl } : {}),
        ...target,
      });
      out(json ? JSON.stringify(r) : `OK ${r.name} pid=${r.pid}${r.where && r.where !== "local" ? ` on ${r.where}` : ""}`);
      return EXIT_OK;
    }, json);
  },
);
