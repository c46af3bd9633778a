// What pysh put and get share: their options, reaching the session's host, the progress
// line, the result (one OK line, or JSON), and errors told in words (--force, missing paths).
import { connect, out, verb, EXIT_OK, CliError, UsageError, type Command } from "./common.js";
import { sessionName } from "./options.js";
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
    if (e.type === "FileExistsError" && /^refusing to replace/.test(e.remoteMessage)) return new CliError("exists", `${e.remoteMessage} on ${host?.where} (--force replaces it)`);
    return new CliError("io", `on ${host?.where}: ${e.message}`);
  }
  if (e instanceof RemoteClosedError) return new CliError("connection_lost", `the link to ${host?.where} closed: ${e.message}`);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return new CliError("io", (e as Error).message);
  return e;
}

export function copyVerb(name: "put" | "get", usage: string, help: string, plan: Planner): Command {
  const shape = name === "put" ? "<session> LOCAL [REMOTE]" : "<session> REMOTE [LOCAL]";
  return verb({ usage, help, options: { "--json": "flag", "--force": "flag", "--via": "value" } }, async ({ opts, args }, json) => {
    if (args.length < 2 || args.length > 3) throw new UsageError(`pysh ${name}: expected ${shape}, got ${args.length} argument(s)`, usage);
    const session = sessionName(args[0], usage);
    if (!args[1] || args[2] === "") throw new UsageError(`pysh ${name}: an empty path`, usage);
    const via = opts.via === undefined ? undefined : { text: String(opts.via), words: viaWords(opts.via, usage) };
    let host: SessionHost | undefined;
    try {
      const client = await connect();
      try {
        host = await openSessionHost(client, session, via);
      } finally {
        client.close(); // the copy itself does not go through the daemon
      }
      const p = await plan(host, args[1], args[2]);
      const bar = progressLine(`${name} ${p.source}`);
      let r: TransferResult;
      try {
        r = await p.run({ force: opts.force === true, onProgress: (x) => bar.update(x) });
      } finally {
        bar.end();
      }
      r.calls += p.calls;
      if (json) out(JSON.stringify({ ok: true, session, where: host.where, source: p.source, target: p.target, ...r }));
      else out(`OK ${name} ${p.source} -> ${p.target} (${r.files} file${r.files === 1 ? "" : "s"}, ${r.changed} changed, ${mib(r.transferred)} sent)`);
      return EXIT_OK;
    } catch (e) {
      throw explained(e, host);
    } finally {
      await host?.close();
    }
  });
}
