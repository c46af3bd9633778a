// pythond daemon / pyctl start|stop|status|restart : run and control the daemon.
import { out, verb, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { socketPath } from "../../util/paths.js";

export const DAEMON_HELP = `usage: pythond daemon [--listen HOST:PORT [--tls] [--show-token]]   (same as: pyctl start)

Runs the daemon in the foreground on the local Unix socket (PYTHOND_SOCK, else
$XDG_RUNTIME_DIR/pythond.sock, else /tmp/pythond-$UID/pythond.sock). Sessions left
by a previous daemon are re-adopted with their namespaces. Logs go to stderr and
<runtime dir>/access.log. Stops on SIGTERM/SIGINT or pyctl stop (sessions end).
  --listen HOST:PORT  also listen on TCP ("PORT" or ":PORT" means 0.0.0.0); clients
                      must send the token (pyctl token). TLS is on unless HOST is
                      127.0.0.1, localhost or ::1
  --tls               TLS on a loopback listener too (certificate: pyctl cert)
  --show-token        print the token once at start
mTLS: when ~/.pythond/tls/trusted_clients/ holds a certificate (pyctl trust), TLS
clients must present a trusted one as well as the token.
Environment: PYTHOND_MAX_SESSIONS (128), PYTHOND_MAX_MESSAGE and PYTHOND_MAX_OUTPUT
(64 MiB each), PYTHOND_PYTHON (interpreter for new sessions, default python3).`;

const noArgs = (usage: string, args: string[]) => {
  if (args.length) throw new UsageError(`${usage}: takes no arguments (got ${JSON.stringify(args[0])})`, usage);
};

const DAEMON_USAGE = "pythond daemon [--listen HOST:PORT [--tls] [--show-token]]";

export const daemon = verb(
  { usage: DAEMON_USAGE, help: DAEMON_HELP, options: { "--listen": "value", "--tls": "flag", "--show-token": "flag" } },
  async ({ opts, args }) => {
    noArgs("pythond daemon", args);
    if (opts.listen === "") throw new UsageError("--listen needs HOST:PORT", DAEMON_USAGE);
    if (opts.listen === undefined && (opts.tls || opts["show-token"]))
      throw new UsageError(`${opts.tls ? "--tls" : "--show-token"} needs --listen HOST:PORT`, DAEMON_USAGE);
    const listen = opts.listen === undefined ? undefined : { listen: opts.listen as string, tls: !!opts.tls, showToken: !!opts["show-token"] };
    const { startDaemon, StartError } = await import("../../daemon/server.js");
    try {
      const d = await startDaemon({ listen });
      await d.stopped;
      return EXIT_OK;
    } catch (e) {
      if (e instanceof StartError) {
        process.stderr.write(`ERR ${e.message}\n`);
        return EXIT_ERROR;
      }
      throw e;
    }
  },
);

async function connectNoStart() {
  const { Client } = await import("../../client/client.js");
  return Client.connect({ autostart: false });
}

export const stop = verb(
  { usage: "pyctl stop [--json]", help: "usage: pyctl stop [--json]\n\nStops the daemon; every session ends with it.", options: { "--json": "flag" } },
  async ({ args }, json) => {
    noArgs("pyctl stop", args);
    const c = await connectNoStart();
    await c.request("stop");
    await waitGone(c.socket);
    out(json ? JSON.stringify({ stopped: true, socket: c.socket }) : "OK stopping daemon");
    return EXIT_OK;
  },
);

export const status = verb(
  {
    usage: "pyctl status [--json]",
    help: "usage: pyctl status [--json]\n\nSays whether a daemon answers on the socket, or at PYTHOND_HOST (exit 1 if not).",
    options: { "--json": "flag" },
  },
  async ({ args }, json) => {
    noArgs("pyctl status", args);
    const remote = process.env.PYTHOND_HOST;
    const where = remote ? { host: remote } : { socket: socketPath() };
    const whereText = remote ? `host: ${remote}` : `socket: ${socketPath()}`;
    try {
      const c = await connectNoStart();
      const h = await c.request("hello");
      const { sessions } = await c.request("ls");
      c.close();
      out(json ? JSON.stringify({ ...where, alive: true, pid: h.pid, sessions: sessions.length }) : `${whereText}\nalive: True\npid: ${h.pid}\nsessions: ${sessions.length}`);
      return EXIT_OK;
    } catch (e) {
      out(json ? JSON.stringify({ ...where, alive: false, error: { type: "connect", message: (e as Error).message } }) : `${whereText}\nalive: False`);
      if (remote && !json) process.stderr.write(`ERR ${(e as Error).message}\n`);
      return EXIT_ERROR;
    }
  },
);

async function waitGone(sock: string, timeoutMs = 10_000): Promise<void> {
  const { probeSocket } = await import("../../daemon/instance.js");
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await probeSocket(sock, 300))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`daemon on ${sock} did not stop within ${timeoutMs} ms`);
}

export const restart = verb(
  {
    usage: "pyctl restart [--json]",
    help: "usage: pyctl restart [--json]\n\nRestarts the daemon in the background; live sessions keep running and are re-adopted\n(an attached pysh re-attaches by itself). A TCP listener (--listen) is kept: the next\ndaemon listens on the same address and port, with TLS if this one had it.",
    options: { "--json": "flag" },
  },
  async ({ args }, json) => {
    noArgs("pyctl restart", args);
    const sock = socketPath();
    // The next daemon listens where this one did (a TCP listener is not lost to a restart).
    let daemonArgs: string[] = [];
    try {
      const c = await connectNoStart();
      const { listening } = await c.request("hello");
      if (listening) daemonArgs = ["--listen", String(listening.listen), ...(listening.tls ? ["--tls"] : [])];
      await c.request("stop", { keep_sessions: true });
      await waitGone(sock);
    } catch (e) {
      if (!/not running/.test((e as Error).message)) throw e;
    }
    const { startDaemonInBackground } = await import("../../client/autostart.js");
    await startDaemonInBackground(sock, undefined, daemonArgs);
    const c = await connectNoStart();
    const { sessions } = await c.request("ls");
    c.close();
    out(json ? JSON.stringify({ restarted: true, sessions: sessions.length }) : `OK restarted (${sessions.length} session${sessions.length === 1 ? "" : "s"} re-adopted)`);
    return EXIT_OK;
  },
);
