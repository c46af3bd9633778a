// pyctl token [--rotate] [--json] : the bearer token TCP clients must send, made on first use.
import { verb, out, EXIT_OK, UsageError } from "../common.js";

const USAGE = "pyctl token [--rotate] [--json]";

export const HELP = `usage: ${USAGE}

Prints the token that clients of a TCP listener (pythond daemon --listen) must send
(PYTHOND_TOKEN or PYTHOND_TOKEN_FILE on the client). It is 32 hex characters from the
system's CSPRNG, kept in ~/.pythond/token (0600) across daemon restarts, and made
here on first use.
  --rotate   replace it: a running daemon refuses the old token from its next
             connection on (connections already open stay open)
  --json     print {"token": ..., "file": ..., "rotated": true|false}
Exit status: 0 ok, 1 error, 2 usage.`;

export const token = verb({ usage: USAGE, help: HELP, options: { "--rotate": "flag", "--json": "flag" } }, async ({ opts, args }) => {
  if (args.length) throw new UsageError(`pyctl token: unexpected argument ${JSON.stringify(args[0])}`, USAGE);
  const { loadOrCreateToken, rotateToken, tokenPath } = await import("../../tls/token.js");
  const t = opts.rotate ? rotateToken() : loadOrCreateToken().token;
  if (opts.json) out(JSON.stringify({ token: t, file: tokenPath(), rotated: !!opts.rotate }));
  else {
    out(t);
    if (opts.rotate) process.stderr.write("token replaced: clients with the old one are refused from the next connection on\n");
  }
  return EXIT_OK;
});
