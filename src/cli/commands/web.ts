// pyctl web [--listen HOST:PORT] [--tls] [--json] : the sessions in a browser page.
import { verb, out, EXIT_OK, UsageError, CliError } from "../common.js";

const USAGE = "pyctl web [--listen HOST:PORT] [--tls] [--json]";
const DEFAULT_LISTEN = "127.0.0.1:8765";

export const HELP = `usage: ${USAGE}

Serves a web page for the daemon's sessions and prints its address, which carries the
page's token after '#' (the only place it is shown; browsers never send that part). Open
it: the page lists the sessions (state, interpreter, running cell, memory) and opens one
in a terminal attached like pysh attach: same screen, several viewers, replay, resize.
It is read-only until you press "Take the keyboard". A side panel lists the session's
cells live (click one for its output) and has an Interrupt button. A dropped connection
(a pyctl restart, a laptop asleep) reconnects and resumes the screen by itself.
  --listen HOST:PORT  where to listen (default 127.0.0.1:8765; port 0 picks a free one).
                      Addresses other than loopback need --tls: the page runs code.
  --tls               serve HTTPS with this machine's certificate (~/.pythond/tls/cert.pem,
                      made on first use as by pyctl cert)
  --json              print {"url", "listen"} as JSON instead of the bare address
The token is the daemon's (~/.pythond/token, as pyctl token prints it); pyctl token
--rotate signs every browser out (open the new address to sign in again).
Runs in the foreground until Ctrl-C or SIGTERM. Exit: 0 stopped, 1 error, 2 usage.`;

export const web = verb({ usage: USAGE, help: HELP, options: { "--listen": "value", "--tls": "flag", "--json": "flag" } }, async ({ opts, args }, json) => {
  if (args.length) throw new UsageError(`pyctl web: unexpected argument ${JSON.stringify(args[0])}`, USAGE);
  const { parseHttpListen, AddressError } = await import("../../util/address.js");
  let listen;
  try {
    listen = parseHttpListen(opts.listen ?? DEFAULT_LISTEN, "--listen", DEFAULT_LISTEN);
  } catch (e) {
    throw e instanceof AddressError ? new UsageError(e.message, USAGE) : e;
  }
  if (!listen.loopback && !opts.tls) {
    throw new CliError(
      "needs_tls",
      `--listen ${opts.listen} is not a loopback address, and the page runs code in your sessions: ` +
        `off loopback it needs TLS. Add --tls (it serves this machine's certificate, ~/.pythond/tls/cert.pem), or listen on 127.0.0.1.`,
    );
  }
  const { daemonTokenSource } = await import("../../tls/token.js");
  const tokens = daemonTokenSource();
  let tls;
  if (opts.tls) {
    const { ensureMachineCert } = await import("../../tls/cert.js");
    try {
      tls = await ensureMachineCert();
    } catch (e) {
      throw new CliError("cert", `--tls: ${(e as Error).message}`);
    }
  }
  const { Client } = await import("../../client/client.js");
  (await Client.connect()).close(); // start the daemon now if none runs (as pysh does)
  const { startWebServer } = await import("../../web/server.js");
  const server = await startWebServer({ listen, tokens, tls: tls && { cert: tls.cert, key: tls.key } });
  // Handlers first: whoever reads the address may stop us at once, and must get a clean exit.
  const stopped = new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve());
  });
  const address = `${server.url}#token=${tokens.current()}`;
  if (json) out(JSON.stringify({ url: address, listen: server.url }));
  else out(address);
  process.stderr.write(`pyctl web: serving ${server.url} for the daemon's sessions (Ctrl-C stops)\n`);
  await stopped;
  await server.close();
  return EXIT_OK;
});
