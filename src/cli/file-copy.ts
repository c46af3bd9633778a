// What pysh put and get share: their options, reaching the session's host, the progress
// line, the result (one OK line, or JSON), and errors told in words (--force, missing paths).
import { connect, out, verb, report, EXIT_OK, CliError, UsageError, type Command } from "./common.js";
import { sessionName, seconds } from "./options.js";
import { openSessionHost, viaWords, type SessionHost } from "./session-host.js";
import { progressLine, mib } from "./transfer-progress.js";
import { RemoteError, RemoteClosedError } from "../tools/errors.js";
import { TransferConflictError, type TransferOptions, type TransferResult } from "../tools/transfer.js";

/** What one copy will do, once its source and target are known. */
export interface CopyPlan {
  source: string;
  target: string;
  /** Tool calls the planning made (probes), added to the result's count. */
  calls: number;
  run(opts: TransferOptions): Promise<TransferResult>;
}

export type Planner = (host: SessionHost, from: string, to: string | undefined) => Promise<CopyPlan>;

/** A path the user means as a directory to copy into: "dir/", ".", "..", "a/..". */
export function namesDirectory(path: string): boolean {
  return path.endsWith("/") || /(^|\/)\.\.?$/.test(path);
}

function explained(e: unknown, host: SessionHost | undefined): unknown {
  if (e instanceof TransferConflictError) return new CliError("exists", `${e.message} (--force replaces it)`);
  if (e instanceof RemoteError) {
    if (e.type === "FileExistsError" && /^refusing to replace/.test(e.remoteMessage)) return new CliError("exists", `${e.remoteMessage} on ${host?.label ?? "the session's host"} (--force replaces it)`);
    return new CliError("io", `on ${host?.label ?? "the session's host"}: ${e.message}`);
  }
  if (e instanceof RemoteClosedError) return new CliError("connection_lost", `the link to ${host?.label ?? "the session's host"} closed: ${e.message}`);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return new CliError("io", (e as Error).message);
  return e;
}

/** Exit status when --timeout ends the copy (as pysh run --timeout). */
const EXIT_TIMEOUT = 124;

/** The options put and get share, as their --help lists them. */
export const COPY_OPTIONS = `  --force         replace a directory with a file, or a file with a directory
  --timeout S     give up after S seconds (exit 124): what was copied stays, and running
                  the same copy again finishes it (a file cut short may leave a temp file
                  .NAME.*.pythond-sync beside its target)
  --via PREFIX    reach the host through this command (e.g. "ssh web01") instead of the way
                  the daemon reports; needed when the daemon is remote (PYTHOND_HOST)
  --json          print {ok, session, where, source, target, files, changed, size,
                  transferred, reused, calls} (errors as {"error": {type, message}})
On a terminal, progress is shown on stderr. Exit: 0 done, 1 error, 2 usage, 124 timeout.`;

export function copyVerb(name: "put" | "get", usage: string, help: string, plan: Planner): Command {
  const shape = name === "put" ? "<session> LOCAL [REMOTE]" : "<session> REMOTE [LOCAL]";
  return verb({ usage, help, options: { "--json": "flag", "--force": "flag", "--via": "value", "--timeout": "value" } }, async ({ opts, args }, json) => {
    const timeout = seconds(opts.timeout, "--timeout", usage, { above: true });
    if (args.length < 2 || args.length > 3) throw new UsageError(`pysh ${name}: expected ${shape}, got ${args.length} argument(s)`, usage);
    const session = sessionName(args[0], usage);
    if (!args[1] || args[2] === "") throw new UsageError(`pysh ${name}: an empty path`, usage);
    const via = opts.via === undefined ? undefined : { text: String(opts.via), words: viaWords(opts.via, usage) };
    let host: SessionHost | undefined;
    const until = timeout === undefined ? Infinity : Date.now() + timeout * 1000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      if (timeout !== undefined) {
        const why = `gave up after ${timeout} s; the copy is incomplete (what was copied stays: run it again to finish)`;
        timer = setTimeout(() => reject(new CliError("timeout", why)), timeout * 1000);
      }
    });
    deadline.catch(() => {});
    try {
      const client = await connect();
      const opening = openSessionHost(client, session, via, Math.max(1, Math.min(30_000, until - Date.now())));
      try {
        host = await Promise.race([opening, deadline]);
      } catch (e) {
        opening.then((h) => h.close(), () => {}); // started too late: not left running
        throw e;
      } finally {
        client.close(); // the copy itself does not go through the daemon
      }
      const h = host;
      const bar = progressLine(`${name} ${args[1]}`);
      let r: TransferResult;
      let p: CopyPlan;
      try {
        const copying = (async (): Promise<[CopyPlan, TransferResult]> => {
          const p = await plan(h, args[1], args[2]);
          return [p, await p.run({ force: opts.force === true, onProgress: (x) => bar.update(x) })];
        })();
        copying.catch(() => {}); // after a timeout its calls fail as the link closes: nobody's business
        [p, r] = await Promise.race([copying, deadline]);
      } finally {
        bar.end();
      }
      r.calls += p.calls;
      if (json) out(JSON.stringify({ ok: true, session, where: host.where, source: p.source, target: p.target, ...r }));
      else out(`OK ${name} ${p.source} -> ${p.target} (${r.files} file${r.files === 1 ? "" : "s"}, ${r.changed} changed, ${mib(r.transferred)} sent)`);
      return EXIT_OK;
    } catch (e) {
      if (e instanceof CliError && e.type === "timeout") return report(e, json), EXIT_TIMEOUT;
      throw explained(e, host);
    } finally {
      clearTimeout(timer);
      await host?.close();
    }
  });
}
