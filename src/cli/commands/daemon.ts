// pythond daemon / pyctl start|stop|status|restart : run and control the daemon.
import { out, report, wantsHelp, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
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

/** --listen HOST:PORT, --tls, --show-token (each once; --tls and --show-token need --listen). */
function listenOptions(argv: string[]): { listen: string; tls: boolean; showToken: boolean } | undefined {
  let listen: string | undefined;
  let tls = false;
  let showToken = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--tls") tls = true;
    else if (a === "--show-token") showToken = true;
    else if (a === "--listen" || a.startsWith("--listen=")) {
      const v = a === "--listen" ? argv[++i] : a.slice(9);
      if (!v) throw new UsageError("--listen needs HOST:PORT");
      listen = v;
    } else throw new UsageError(`unknown argument ${JSON.stringify(a)} (see --help)`);
  }
  if (!listen) {
    if (tls || showToken) throw new UsageError(`${tls ? "--tls" : "--show-token"} needs --listen HOST:PORT`);
    return undefined;
  }
  return { listen, tls, showToken };
}

export async function daemon(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(DAEMON_HELP), EXIT_OK;
  let listen;
  try {
    listen = listenOptions(argv);
  } catch (e) {
    return report(e);
  }
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
}

async function connectNoStart() {
  const { Client } = await import("../../client/client.js");
  return Client.connect({ autostart: false });
}

export async function stop(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out("usage: pyctl stop\n\nStops the daemon; every session ends with it."), EXIT_OK;
  if (argv.length) return report(new UsageError("pyctl stop"));
  try {
    const c = await connectNoStart();
    await c.request("stop");
    await waitGone(c.socket);
    out("OK stopping daemon");
    return EXIT_OK;
  } catch (e) {
    return report(e);
  }
}

export async function status(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out("usage: pyctl status\n\nSays whether a daemon answers on the socket, or at PYTHOND_HOST (exit 1 if not)."), EXIT_OK;
  const where = process.env.PYTHOND_HOST ? `host: ${process.env.PYTHOND_HOST}` : `socket: ${socketPath()}`;
  try {
    const c = await connectNoStart();
    const h = await c.request("hello");
    const { sessions } = await c.request("ls");
    c.close();
    out(`${where}\nalive: True\npid: ${h.pid}\nsessions: ${sessions.length}`);
    return EXIT_OK;
  } catch (e) {
    out(`${where}\nalive: False`);
    if (process.env.PYTHOND_HOST) process.stderr.write(`ERR ${(e as Error).message}\n`);
    return EXIT_ERROR;
  }
}

async function waitGone(sock: string, timeoutMs = 10_000): Promise<void> {
  const { probeSocket } = await import("../../daemon/instance.js");
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await probeSocket(sock, 300))) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`daemon on ${sock} did not stop within ${timeoutMs} ms`);
}

export async function restart(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    return out("usage: pyctl restart\n\nRestarts the daemon in the background; live sessions keep running and are re-adopted."), EXIT_OK;
  }
  if (argv.length) return report(new UsageError("pyctl restart"));
  const sock = socketPath();
  try {
    try {
      const c = await connectNoStart();
      await c.request("stop", { keep_sessions: true });
      await waitGone(sock);
    } catch (e) {
      if (!/not running/.test((e as Error).message)) throw e;
    }
    const { startDaemonInBackground } = await import("../../client/autostart.js");
    await startDaemonInBackground(sock);
    const c = await connectNoStart();
    const { sessions } = await c.request("ls");
    c.close();
    out(`OK restarted (${sessions.length} session${sessions.length === 1 ? "" : "s"} re-adopted)`);
    return EXIT_OK;
  } catch (e) {
    return report(e);
  }
}
