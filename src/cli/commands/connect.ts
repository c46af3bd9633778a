// pyctl connect <alias> <host:port> [--tls] [--token-file F] [--replace] : the local daemon
// keeps a link to a remote daemon; the alias then stands for the remote session of that name.
// pyctl disconnect <alias> : drop the proxy (the remote session lives on).
import { withClient, verb, out, EXIT_OK, UsageError } from "../common.js";
import { sessionName } from "../options.js";

const USAGE = "pyctl connect [--tls] [--token-file FILE] [--replace] [--json] <alias> <host:port>";

export const HELP = `usage: ${USAGE}

The local daemon connects to the daemon at <host:port> (pythond daemon --listen there),
checks that it answers, and keeps the link: from then on <alias> stands for the remote
session of the same name (pysh run <alias> CODE), and pysh <verb> <alias> <remote> ...
names another one. The link is made again (with backoff) when it drops; the proxy is kept
in ~/.pythond/proxies.json (0600) and comes back when the local daemon restarts.
  --tls              TLS (wss://); the remote's certificate must be pinned here first:
                     pyctl pin <host:port>
  --token-file FILE  the remote daemon's token (pyctl token there), first line of FILE;
                     else PYTHOND_TOKEN. A token as a third argument (pythond 0.4's form)
                     is accepted with a warning: other users can read the command line.
  --replace          replace a live session of that name (else refused)
  --json             print the reply as JSON (errors too)
Fails with the reason: auth (wrong token), pin (certificate not pinned or changed),
refused (nothing listening), timeout, tls (TLS on one side only).
Prints: OK connected <alias> -> <host>:<port>[ tls]`;

export const connect = verb(
  { usage: USAGE, help: HELP, options: { "--tls": "flag", "--token-file": "value", "--replace": "flag", "--json": "flag" } },
  async ({ opts, args }, json) => {
    if (args.length < 2 || args.length > 3) throw new UsageError(`pyctl connect: expected <alias> <host:port>, got ${args.length} argument(s)`, USAGE);
    const alias = sessionName(args[0], USAGE);
    const address = args[1];
    let token: string;
    if (args.length === 3) {
      process.stderr.write("WARN: a token on the command line can be read by other users of this machine; use --token-file FILE or PYTHOND_TOKEN\n");
      token = args[2];
    } else if (opts["token-file"] !== undefined) {
      const { readTokenFile } = await import("../../tls/token.js");
      token = readTokenFile(opts["token-file"]);
      if (!token) throw new UsageError(`pyctl connect: token file ${opts["token-file"]} is empty`, USAGE);
    } else if (process.env.PYTHOND_TOKEN) token = process.env.PYTHOND_TOKEN;
    else throw new UsageError("pyctl connect: no token: --token-file FILE (the remote's pyctl token) or PYTHOND_TOKEN", USAGE);
    return withClient(async (client) => {
      const r = await client.request("connect", { session: alias, address, tls: opts.tls === true, token, replace: opts.replace === true });
      out(json ? JSON.stringify(r) : `OK connected ${alias} -> ${r.address}${r.tls ? " tls" : ""}`);
      return EXIT_OK;
    }, json);
  },
);

const DUSAGE = "pyctl disconnect [--json] <alias>";

export const DHELP = `usage: ${DUSAGE}

Drops the proxy <alias> (and forgets it: it does not come back on restart). The remote
session lives on; pysh kill <alias> would end it.
Prints: OK disconnected <alias>`;

export const disconnect = verb({ usage: DUSAGE, help: DHELP, options: { "--json": "flag" } }, async ({ args }, json) => {
  if (args.length !== 1) throw new UsageError(`pyctl disconnect: expected one alias, got ${args.length} argument(s)`, DUSAGE);
  const alias = sessionName(args[0], DUSAGE);
  return withClient(async (client) => {
    const r = await client.request("disconnect", { session: alias });
    out(json ? JSON.stringify(r) : `OK disconnected ${alias}`);
    return EXIT_OK;
  }, json);
});
