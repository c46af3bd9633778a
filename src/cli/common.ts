// What every CLI verb shares: exit codes, error printing (text or --json), connecting, and
// `verb()`, which turns an option table and a body into a command.
import { Client } from "../client/client.js";
import { DaemonRequestError, ConnectError } from "../client/errors.js";
import { parseArgs, type ArgSpec, type ParsedArgs } from "./options.js";

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export { UsageError } from "./usage-error.js";
import { UsageError } from "./usage-error.js";

/** An error of the CLI itself with a stable type for --json ("io", "timeout", ...). */
export class CliError extends Error {
  override name = "CliError";
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

export type Command = (argv: string[]) => Promise<number>;

export function connect(): Promise<Client> {
  return Client.connect();
}

/** The stable type of an error, as --json reports it. */
export function errorType(e: unknown): string {
  if (e instanceof UsageError) return "usage";
  if (e instanceof CliError) return e.type;
  if (e instanceof DaemonRequestError) return e.code;
  if (e instanceof ConnectError) return /closed the connection/.test(e.message) ? "connection_lost" : "connect";
  return "error";
}

/**
 * Print an error and return its exit code: one "ERR ..." line on stderr as pythond 0.4 did,
 * or with json one object on stdout: {"error": {"type", "message"}, ...extra} (extra carries
 * e.g. the cell id when there is one).
 */
export function report(e: unknown, json = false, extra: Record<string, unknown> = {}): number {
  const code = e instanceof UsageError ? EXIT_USAGE : EXIT_ERROR;
  const message = (e as Error)?.message ?? String(e);
  if (json) {
    out(JSON.stringify({ error: { type: errorType(e), message }, ...extra }));
    return code;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`ERR usage: ${message}\n${e.usage ? `usage: ${e.usage.replace(/\n/g, "\n       ")}\n` : ""}`);
    return code;
  }
  process.stderr.write(`ERR ${message}\n`);
  return code;
}

/** Connect, act, close; errors are reported (as JSON with json) and mapped to exit codes. */
export async function withClient(act: (c: Client) => Promise<number>, json = false): Promise<number> {
  let client: Client | undefined;
  try {
    client = await connect();
    return await act(client);
  } catch (e) {
    return report(e, json);
  } finally {
    client?.close();
  }
}

export function out(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : text + "\n");
}

export interface VerbSpec extends ArgSpec {
  /** Printed by -h/--help. */
  help: string;
}

/**
 * A command from an option table and a body: parses argv (options anywhere), prints help,
 * reports usage and other errors (as JSON when --json was given, even if parsing failed).
 */
export function verb(spec: VerbSpec, body: (p: ParsedArgs, json: boolean) => Promise<number>): Command {
  return async (argv) => {
    let parsed: ParsedArgs;
    try {
      parsed = parseArgs(argv, spec);
    } catch (e) {
      const end = argv.indexOf("--");
      const json = "--json" in (spec.options ?? {}) && (end < 0 ? argv : argv.slice(0, end)).includes("--json");
      return report(e, json);
    }
    if (parsed.opts.help) return out(spec.help), EXIT_OK;
    const json = parsed.opts.json === true;
    try {
      return await body(parsed, json);
    } catch (e) {
      return report(e, json);
    }
  };
}
