// What every CLI verb shares: exit codes, error printing, connecting.
import { Client } from "../client/client.js";
import { DaemonRequestError, ConnectError } from "../client/errors.js";

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override name = "UsageError";
}

export type Command = (argv: string[]) => Promise<number>;

export function wantsHelp(argv: string[]): boolean {
  return argv[0] === "--help" || argv[0] === "-h";
}

export function connect(): Promise<Client> {
  return Client.connect();
}

/** Print an error as pythond 0.4 did ("ERR ..." on stderr) and return the exit code. */
export function report(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`ERR usage: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (e instanceof DaemonRequestError || e instanceof ConnectError) {
    process.stderr.write(`ERR ${e.message}\n`);
    return EXIT_ERROR;
  }
  process.stderr.write(`ERR ${(e as Error)?.message ?? String(e)}\n`);
  return EXIT_ERROR;
}

/** Run one verb against the daemon: connect, act, close, map errors to exit codes. */
export async function withClient(act: (c: Client) => Promise<number>): Promise<number> {
  let client: Client | undefined;
  try {
    client = await connect();
    return await act(client);
  } catch (e) {
    return report(e);
  } finally {
    client?.close();
  }
}

export function out(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : text + "\n");
}

/** Options of the form --name, --name=value or --name value, before the positionals. */
export function takeOptions(argv: string[], spec: Record<string, "flag" | "value" | "list">): { opts: Record<string, any>; rest: string[] } {
  const opts: Record<string, any> = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("--") || a === "-") break;
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === "flag") {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      opts[name] = true;
      continue;
    }
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    if (kind === "list") (opts[name] ??= []).push(value);
    else opts[name] = value;
  }
  return { opts, rest: argv.slice(i) };
}
