// The pysh verb table and the dispatcher every entry point uses. Each verb lives in commands/.
import { out, EXIT_OK, EXIT_USAGE, type Command } from "./common.js";
import { VERSION } from "./version.js";

export const PYSH_HELP = `pysh ${VERSION} -- persistent Python sessions (pythond client)

usage: pysh <verb> [options] <session> ...
  new <session>              create a session (--replace, --python, --cwd, --env)
  run <session> CODE...      run code, print its output (-f FILE, - for stdin, --stdin, --json)
  fire <session> CODE...     queue code in the background, print its cell id
  fork <session> CODE...     run code in a forked copy, merge new names back
  poll <session> [cell_id]   state and output of a cell (--wait [SECONDS])
  cells <session>            list cells
  output <session>           output of no cell: threads/children after their cell (--since SEQ)
  ls                         list sessions (--json)
  status <session>           session health (JSON)
  vars <session>             namespace names (JSON)
  complete <session> <text>  completions (JSON)
  int <session>              interrupt the running cell
  cancel <session> <cell_id> drop a queued cell before it runs
  kill <session>             end a session
  restart <session>          fresh interpreter, same settings (--replay)
  attach [session]           interactive Python prompt in the session (Ctrl-] detaches)
  put <session> LOCAL [REMOTE] copy a file or tree to the session's host
  get <session> REMOTE [LOCAL] copy a file or tree from the session's host
Options may come anywhere ("--" ends them), except after the session name of run, fire
and fork, where the code begins. --json (every verb but attach) prints JSON, errors too.
Run "pysh <verb> --help" for details. Exit: 0 ok, 1 error, 2 usage.
A daemon is started in the background if none answers (PYTHOND_NO_AUTOSTART=1 to refuse).
A remote daemon: PYTHOND_HOST=host:port, PYTHOND_TLS=1, PYTHOND_TOKEN (or PYTHOND_TOKEN_FILE);
pin its certificate first: pyctl pin host:port. Or let the local daemon hold the link:
pyctl connect <alias> host:port --tls --token-file F, then every verb takes <alias> (the
remote session of that name) or <alias> <remote-session>.`;

export const verbs: Record<string, () => Promise<Command>> = {
  new: async () => (await import("./commands/new.js")).newSession,
  run: async () => (await import("./commands/run.js")).run,
  fire: async () => (await import("./commands/launch.js")).fire,
  poll: async () => (await import("./commands/poll.js")).poll,
  ls: async () => (await import("./commands/ls.js")).ls,
  status: async () => (await import("./commands/session-query.js")).status,
  vars: async () => (await import("./commands/session-query.js")).vars,
  complete: async () => (await import("./commands/session-query.js")).complete,
  int: async () => (await import("./commands/interrupt.js")).interrupt,
  cancel: async () => (await import("./commands/cancel.js")).cancel,
  fork: async () => (await import("./commands/launch.js")).fork,
  restart: async () => (await import("./commands/restart.js")).restart,
  kill: async () => (await import("./commands/session-query.js")).kill,
  cells: async () => (await import("./commands/session-query.js")).cells,
  attach: async () => (await import("./commands/attach.js")).attach,
  output: async () => (await import("./commands/output.js")).output,
  put: async () => fileVerbs().put,
  get: async () => fileVerbs().get,
};

/** put and get: from their own bundle beside dist/pysh.cjs (scripts/build.mjs says why). */
function fileVerbs(): typeof import("./file-verbs.js") {
  return require(require("node:path").join(__dirname, "pysh-files.cjs"));
}

export async function dispatch(argv: string[], table: Record<string, () => Promise<Command>>, help: string): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined) {
    // A bare command is a mistake, not a request for help: usage on stderr, exit 2.
    process.stderr.write(`${help}\n`);
    return EXIT_USAGE;
  }
  if (verb === "--help" || verb === "-h" || verb === "help") return out(help), EXIT_OK;
  if (verb === "-V" || verb === "--version" || verb === "version") return out(`pythond ${VERSION}`), EXIT_OK;
  // Own keys only: "constructor" or "__proto__" is an unknown verb, not an inherited function.
  const load = Object.hasOwn(table, verb) ? table[verb] : undefined;
  if (!load) {
    const name = help.split(" ")[0];
    process.stderr.write(`ERR usage: unknown verb '${verb}' (see: ${name} --help)\n`);
    return EXIT_USAGE;
  }
  return (await load())(rest);
}

