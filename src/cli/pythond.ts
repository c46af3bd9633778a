// pythond: the daemon (like sshd); also accepts every pysh verb.
import { dispatch, verbs, PYSH_HELP } from "./verbs.js";

const HELP = `${PYSH_HELP.replace(/\bpysh\b/g, "pythond")}

daemon:
  daemon                     run the daemon in the foreground (see: pythond daemon --help)
  mcp                        MCP server for AI agents (see: pythond mcp --help)

tools:
  types FILE.py...           print TypeScript interfaces for the Tool classes in Python files`;

process.exitCode = await dispatch(
  process.argv.slice(2),
  {
    ...verbs,
    daemon: async () => (await import("./commands/daemon.js")).daemon,
    mcp: async () => (await import("./commands/mcp.js")).mcp,
    types: async () => (await import("./commands/types.js")).typesCommand,
  },
  HELP,
);
