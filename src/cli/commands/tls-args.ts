// Argument parsing for the certificate and token verbs (cert, pin, unpin, trust, untrust,
// token): options anywhere, "--" ends them. Small on purpose, to move onto the shared CLI
// parser later without changing what the verbs accept.
import { UsageError } from "../common.js";

export type Spec = Record<string, "flag" | "value" | "list">;

export function parseArgs(argv: string[], spec: Spec): { opts: Record<string, any>; rest: string[] } {
  const opts: Record<string, any> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("--")) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name} (see --help)`);
    if (kind === "flag") {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      opts[name] = true;
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (kind === "list") (opts[name] ??= []).push(value);
    else opts[name] = value;
  }
  return { opts, rest };
}
