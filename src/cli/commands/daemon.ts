// pythond daemon / pyctl start|stop|status|restart : run and control the daemon.
import { out, verb, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { socketPath } from "../../util/paths.js";

export const DAEMON_HELP = `usage: pythond daemon        (same as: pyctl start)

Runs the daemon in the foreground on the local Unix socket (PYTHOND_SOCK, else
$XDG_RUNTIME_DIR/pythond.sock, else /tmp/pythond-$UID/pythond.sock). Sessions left
by a previous daemon are re-adopted with their namespaces. Logs go to stderr and
<runtime dir>/access.log. Stops on SIGTERM/SIGINT or pyctl stop (sessions end).
Environment: PYTHOND_MAX_SESSIONS (128), PYTHOND_MAX_MESSAGE and PYTHOND_MAX_OUTPUT
(64 MiB each), PYTHOND_PYTHON (interpreter for new sessions, default python3).`;

const noArgs = (usage: string, args: string[]) => {
  if (args.length) throw new UsageError(`${usage}: takes no arguments (got ${JSON.stringify(args[0])})`, usage);
};

export const daemon = verb({ usage: "pythond daemon", help: DAEMON_HELP }, async ({ args }) => {
  noArgs("pythond daemon", args);
  const { startDaemon, StartError } = await import("../../daemon/server.js");
  try {
    const d = await startDaemon();
    await d.stopped;
    return EXIT_OK;
  } catch (e) {
    if (e instanceof StartError) {
      process.stderr.write(`ERR ${e.message}\n`);
      return EXIT_ERROR;
    }
    throw e;
  }
});

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
    help: "usage: pyctl status [--json]\n\nSays whether a daemon answers on the socket (exit 1 if not).",
    options: { "--json": "flag" },
  },
  async ({ args }, json) => {
    noArgs("pyctl status", args);
    const sock = socketPath();
    try {
      const c = await connectNoStart();
      const h = await c.request("hello");
      const { sessions } = await c.request("ls");
      c.close();
      out(json ? JSON.stringify({ socket: sock, alive: true, pid: h.pid, sessions: sessions.length }) : `socket: ${sock}\nalive: True\npid: ${h.pid}\nsessions: ${sessions.length}`);
      return EXIT_OK;
    } catch (e) {
      out(json ? JSON.stringify({ socket: sock, alive: false, error: { type: "connect", message: (e as Error).message } }) : `socket: ${sock}\nalive: False`);
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
    help: "usage: pyctl restart [--json]\n\nRestarts the daemon in the background; live sessions keep running and are re-adopted\n(an attached pysh re-attaches by itself).",
    options: { "--json": "flag" },
  },
  async ({ args }, json) => {
    noArgs("pyctl restart", args);
    const sock = socketPath();
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
    out(json ? JSON.stringify({ restarted: true, sessions: sessions.length }) : `OK restarted (${sessions.length} session${sessions.length === 1 ? "" : "s"} re-adopted)`);
    return EXIT_OK;
  },
);
