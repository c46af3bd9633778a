// pysh new <session> : create a session (refuses an existing live one unless --replace).
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, UsageError } from "../common.js";

export const HELP = `usage: pysh new [--replace] [--python PATH] [--cwd DIR] [--env K=V]... <session>

Creates a named Python session. Names: a-z, 0-9, _ and -, 1 to 80 characters.
An existing live session is never replaced silently: pass --replace to discard it.
  --python PATH   interpreter for this session (a virtualenv's python works)
  --cwd DIR       working directory of the session
  --env K=V       extra environment variable (repeatable)
  --int-grace S   seconds an interrupted cell gets before its agent is killed (default 5)
Prints: OK <session> pid=<pid>`;

export async function newSession(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, session: string;
  const env: Record<string, string> = {};
  try {
    const parsed = takeOptions(argv, { replace: "flag", python: "value", cwd: "value", env: "list", json: "flag", "int-grace": "value" });
    if (parsed.opts["int-grace"] !== undefined && !(Number(parsed.opts["int-grace"]) >= 0)) throw new UsageError("--int-grace wants seconds");
    opts = parsed.opts;
    if (parsed.rest.length !== 1) throw new UsageError("pysh new <session>");
    [session] = parsed.rest;
    for (const kv of opts.env ?? []) {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new UsageError(`--env wants K=V (got ${JSON.stringify(kv)})`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    const r = await client.request("new", {
      session,
      replace: opts.replace === true,
      python: opts.python,
      cwd: opts.cwd ? (await import("node:path")).resolve(opts.cwd) : undefined,
      env: Object.keys(env).length ? env : undefined,
      int_grace: opts["int-grace"] === undefined ? undefined : Number(opts["int-grace"]),
    });
    out(opts.json ? JSON.stringify(r) : `OK ${r.name} pid=${r.pid}`);
    return EXIT_OK;
  });
}
