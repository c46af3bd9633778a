// pythond mcp: the MCP server (src/mcp), loaded only when this verb runs.
import { verb, UsageError } from "../common.js";

export const HELP = `usage: pythond mcp [--http 127.0.0.1:PORT] [--tools FILE.py]... [--via "CMD"] [--session NAME]

A Model Context Protocol server giving AI agents persistent Python sessions of the
daemon (auto-started): tools python_run, python_wait, python_interrupt,
python_sessions, python_new, python_restart, python_kill, python_vars; the whole
output of a cell as resource pythond://sessions/<s>/cells/<id> (docs/MCP.md).
Speaks MCP on stdin/stdout unless --http is given.
  --http H:P      Streamable HTTP at http://H:P/mcp instead (loopback only); each
                  request needs "Authorization: Bearer <token>" with the daemon's
                  token (~/.pythond/token, as pyctl token prints it)
  --tools FILE    publish each public method of each Tool class in FILE as a tool
                  <Class>_<method> (repeatable)
  --via "CMD"     run those tools through CMD, e.g. "ssh web01" (default: local python3)
  --session NAME  the session used when a call names none (default mcp)
Environment: PYTHOND_MCP_BUDGET (seconds a call waits for a cell, default 50),
PYTHOND_MCP_MAX_OUTPUT (bytes of stdout/stderr per result, default 32768),
PYTHOND_MCP_MAX_IMAGE (bytes of an inline PNG, default 1048576).`;

const USAGE = 'pythond mcp [--http 127.0.0.1:PORT] [--tools FILE.py]... [--via "CMD"] [--session NAME]';

export const mcp = verb(
  { usage: USAGE, help: HELP, options: { "--http": "value", "--tools": "list", "--via": "value", "--session": "value" } },
  async ({ opts, args }) => {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}' (see pythond mcp --help)`, USAGE);
    if (opts.via !== undefined && !opts.tools) throw new UsageError("--via needs --tools", USAGE);
    if (opts.session !== undefined && !/^[a-z0-9_-]{1,80}$/.test(opts.session)) throw new UsageError("--session wants a session name (a-z, 0-9, _, -)", USAGE);
    if (opts.http !== undefined) {
      const { parseListen } = await import("../../mcp/http.js");
      try {
        parseListen(opts.http);
      } catch (e) {
        throw new UsageError((e as Error).message, USAGE);
      }
    }
    const { serveMcp } = await import("../../mcp/main.js");
    return serveMcp({ http: opts.http, tools: opts.tools ?? [], via: opts.via, session: opts.session });
  },
);
