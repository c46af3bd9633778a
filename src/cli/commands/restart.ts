// pysh restart <session> [--replay] : a fresh interpreter with the same name, python, cwd and env.
import { withClient, takeOptions, wantsHelp, out, report, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";

export const HELP = `usage: pysh restart [--replay] [--json] <session>

Replaces the session's interpreter with a fresh one (same name, interpreter, cwd
and environment); the old namespace is discarded. Works on a dead session too
(e.g. after an interrupt had to kill a stuck agent).
  --replay   re-run ~/.pythond/sessions/<session>/history.py (the successful cells)
             in the new interpreter; its output goes to stderr
  --json     print the whole reply as JSON
Prints: OK <session> pid=<pid> [replayed]. Exit 1 if the replay raised.`;

export async function restart(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, session: string;
  try {
    const parsed = takeOptions(argv, { replay: "flag", json: "flag" });
    opts = parsed.opts;
    if (parsed.rest.length !== 1) throw new UsageError("pysh restart [--replay] <session>");
    [session] = parsed.rest;
  } catch (e) {
    return report(e);
  }
  return withClient(async (client) => {
    const r = await client.request("restart", { session, replay: opts.replay === true });
    if (opts.json) return out(JSON.stringify(r)), r.replayed && r.ok === false ? EXIT_ERROR : EXIT_OK;
    if (r.replayed && r.output) process.stderr.write(String(r.output).replace(/\n*$/, "\n"));
    const note = r.replayed ? (r.ok ? " replayed" : " replay failed") : opts.replay ? ` (not replayed: ${r.replay_note})` : "";
    out(`OK ${r.name} pid=${r.pid}${note}`);
    return r.replayed && r.ok === false ? EXIT_ERROR : EXIT_OK;
  });
}
