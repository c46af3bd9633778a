// pyctl token [--rotate] [--json] : the bearer token TCP clients must send, made on first use.
import { out, report, wantsHelp, EXIT_OK, UsageError } from "../common.js";
import { parseArgs } from "./tls-args.js";

export const HELP = `usage: pyctl token [--rotate] [--json]

Prints the token that clients of a TCP listener (pythond daemon --listen) must send
(PYTHOND_TOKEN or PYTHOND_TOKEN_FILE on the client). It is 32 hex characters from the
system's CSPRNG, kept in ~/.pythond/token (0600) across daemon restarts, and made
here on first use.
  --rotate   replace it: a running daemon refuses the old token from its next
             connection on (connections already open stay open)
  --json     print {"token": ..., "file": ..., "rotated": true|false}
Exit status: 0 ok, 1 error, 2 usage.`;

export async function token(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>;
  try {
    const parsed = parseArgs(argv, { rotate: "flag", json: "flag" });
    if (parsed.rest.length) throw new UsageError("pyctl token [--rotate] [--json]");
    opts = parsed.opts;
  } catch (e) {
    return report(e);
  }
  const { loadOrCreateToken, rotateToken, tokenPath } = await import("../../tls/token.js");
  try {
    const t = opts.rotate ? rotateToken() : loadOrCreateToken().token;
    if (opts.json) out(JSON.stringify({ token: t, file: tokenPath(), rotated: !!opts.rotate }));
    else {
      out(t);
      if (opts.rotate) process.stderr.write("token replaced: clients with the old one are refused from the next connection on\n");
    }
    return EXIT_OK;
  } catch (e) {
    return report(e);
  }
}
