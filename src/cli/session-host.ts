// Reaching the host a session runs on (pysh put/get): the daemon says how (its locate op: the
// command prefix, the session's python, its working directory), and pysh starts the built-in
// FileSync tool there itself, as a Tool agent through that prefix. No file byte goes through
// the daemon. Imported only by put and get, so the tools code stays off pysh's cold path.
import { posix } from "node:path";
import type { Client } from "../client/client.js";
import { Remote } from "../tools/remote.js";
import { CliError, UsageError } from "./common.js";
import { splitWords } from "./words.js";

export interface SessionHost {
  remote: Remote;
  where: string;
  /** `where` for messages: "this machine" for a local session. */
  label: string;
  /** The session's working directory (relative remote paths start there), if known. */
  cwd: string | null;
  close(): Promise<void>;
  /** A remote path made absolute against the session's working directory. */
  resolve(path: string): string;
}

interface Location {
  where: string;
  via: string[];
  python: string;
  cwd: string | null;
}

function location(r: any): Location {
  const ok =
    r && typeof r.where === "string" && Array.isArray(r.via) && r.via.every((w: unknown) => typeof w === "string") &&
    typeof r.python === "string" && r.python && (r.cwd === null || typeof r.cwd === "string");
  if (!ok) throw new CliError("protocol", "the daemon's locate reply is not {where, via, python, cwd}");
  return r;
}

/** A --via value as argv (checked before anything is asked of the daemon). */
export function viaWords(via: string, usage: string): string[] {
  let words: string[];
  try {
    words = splitWords(via);
  } catch (e) {
    throw new UsageError(`--via: ${(e as Error).message}`, usage);
  }
  if (!words.length) throw new UsageError("--via: an empty command", usage);
  return words;
}

/** `via`: a command prefix given on pysh's command line (viaWords), in place of the daemon's. */
export async function openSessionHost(client: Client, session: string, via?: { text: string; words: string[] }, startTimeoutMs = 30_000): Promise<SessionHost> {
  const loc = location(await client.request("locate", { session }));
  let prefix = loc.via;
  let where = loc.where;
  if (via !== undefined) {
    prefix = via.words;
    where = via.text;
  } else if (client.remote) {
    throw new CliError(
      "unsupported",
      `session '${session}' runs on the daemon at ${client.socket}, not on this machine: reach that host with --via PREFIX (e.g. --via "ssh host")`,
    );
  }
  let remote: Remote;
  try {
    // As a session's agent: never the daemon's token in its environment.
    const { PYTHOND_TOKEN: _token, ...env } = process.env;
    remote = await Remote.spawn([...prefix, loc.python], { startTimeoutMs, closeTimeoutMs: 2000, env });
  } catch (e) {
    throw new CliError("connect", `cannot reach the host of session '${session}' (${where}): ${(e as Error).message}`);
  }
  return {
    remote,
    where,
    label: where === "local" ? "this machine" : where,
    cwd: loc.cwd,
    close: () => remote.close(),
    resolve(path) {
      if (!posix.isAbsolute(path) && !loc.cwd) throw new UsageError(`the working directory of session '${session}' is unknown: give an absolute path`);
      const p = posix.isAbsolute(path) ? posix.normalize(path) : posix.join(loc.cwd!, path);
      return p.length > 1 ? p.replace(/\/+$/, "") : p;
    },
  };
}
