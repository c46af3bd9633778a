// The one option parser of pysh, pyctl and pythond. Every verb declares its options as a
// small table and gets them back parsed, wherever on the line the user typed them:
//
//   const SPEC = {
//     usage: "pysh new [--replace] [--python PATH] [--env K=V]... <session>",
//     options: { "--replace": "flag", "--python": "value", "--env": "list", "-f, --file": "value" },
//     verbatimAfter: 1,            // optional: after this many positionals the rest is taken as is
//   };
//   const { opts, args } = parseArgs(argv, SPEC);   // opts.python, opts.env (string[]), args
//
// Kinds: "flag" (no value), "value" (one value: --name V or --name=V; the last one wins),
// "list" (a value, repeatable, collected in order), "seconds?" (an optional number of
// seconds: taken from --name=S, or from the next word when that is a plain number).
// A key may list aliases ("-t, --timeout"); the value is stored under the last name,
// without dashes. -h/--help is always known (opts.help). "--" ends the options: what follows
// is positional even if it begins with "-". A word beginning with "-" that is not a declared
// option is refused (a lone "-" is a positional: "stdin" for the verbs that read code).
// Every mistake throws UsageError (exit 2) naming the command and carrying its usage line.
import { UsageError } from "./usage-error.js";

export type OptionKind = "flag" | "value" | "list" | "seconds?";

export interface ArgSpec {
  /** The synopsis line(s) printed under a usage error, e.g. "pysh int [--grace S] <session>". */
  usage: string;
  options?: Record<string, OptionKind>;
  /** After this many positionals, every remaining word is a positional taken verbatim (code). */
  verbatimAfter?: number;
}

export interface ParsedArgs {
  opts: Record<string, any>;
  args: string[];
}

interface Known {
  name: string;
  kind: OptionKind;
}

const SECONDS_WORD = /^\d{1,6}(\.\d+)?$/;

function table(spec: ArgSpec): Map<string, Known> {
  const known = new Map<string, Known>([
    ["-h", { name: "help", kind: "flag" }],
    ["--help", { name: "help", kind: "flag" }],
  ]);
  for (const [key, kind] of Object.entries(spec.options ?? {})) {
    const aliases = key.split(",").map((s) => s.trim());
    const name = aliases[aliases.length - 1].replace(/^-+/, "");
    for (const a of aliases) known.set(a, { name, kind });
  }
  return known;
}

/** The command name in a usage line: "pysh new [...]" -> "pysh new". */
function commandOf(usage: string): string {
  return usage.split(/\s+\[|\s+</)[0].split("\n")[0].trim();
}

export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const known = table(spec);
  const cmd = commandOf(spec.usage);
  const fail = (msg: string): never => {
    throw new UsageError(`${cmd}: ${msg}`, spec.usage);
  };
  const opts: Record<string, any> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (spec.verbatimAfter !== undefined && args.length >= spec.verbatimAfter) {
      args.push(...argv.slice(i));
      break;
    }
    if (word === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith("-") || word === "-") {
      args.push(word);
      continue;
    }
    const eq = word.startsWith("--") ? word.indexOf("=") : -1;
    const flag = eq > 0 ? word.slice(0, eq) : word;
    const inline = eq > 0 ? word.slice(eq + 1) : undefined;
    const k = known.get(flag);
    if (!k) fail(`unknown option ${flag}`);
    const { name, kind } = k!;
    if (kind === "flag") {
      if (inline !== undefined) fail(`${flag} takes no value`);
      opts[name] = true;
      continue;
    }
    if (kind === "seconds?") {
      let text = inline;
      if (text === undefined && SECONDS_WORD.test(argv[i + 1] ?? "")) text = argv[++i];
      if (text === undefined) opts[name] = true;
      else {
        const n = Number(text);
        if (!SECONDS_WORD.test(text) || !Number.isFinite(n)) fail(`${flag} wants a number of seconds (got ${JSON.stringify(text)})`);
        opts[name] = n;
      }
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) fail(`${flag} needs a value`);
      value = argv[++i];
    }
    if (kind === "list") (opts[name] ??= []).push(value);
    else opts[name] = value;
  }
  return { opts, args };
}

/** A number of seconds from an option value, within [min, max]; a usage error otherwise. */
export function seconds(value: unknown, flag: string, usage: string, { min = 0, max = 7 * 24 * 3600, above = false } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "number" ? value : /^\s*\d+(\.\d+)?\s*$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < min || n > max || (above && n <= min)) {
    throw new UsageError(`${commandOf(usage)}: ${flag} wants seconds${above ? ` above ${min}` : ` from ${min}`} to ${max} (got ${JSON.stringify(String(value))})`, usage);
  }
  return n;
}

/**
 * The explicit form through a proxy: `<alias> <remote-session> ...` names another session of
 * the proxy's remote daemon. With `want` plain arguments after the session, one more in front
 * of them is that remote session's name ({"remote": ...} in the request).
 */
export function remoteField(args: readonly string[], want: number, usage: string): { remote?: string } {
  return args.length === want + 2 ? { remote: sessionName(args[1], usage) } : {};
}

/** A session name as a positional: never something that looks like an option. */
export function sessionName(word: string | undefined, usage: string): string {
  if (word === undefined) throw new UsageError(`${commandOf(usage)}: no session name given`, usage);
  if (word.startsWith("-")) throw new UsageError(`${commandOf(usage)}: a session name cannot begin with "-" (got ${JSON.stringify(word)})`, usage);
  return word;
}
