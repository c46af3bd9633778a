// pyctl: control of the daemon (like systemctl).
import { dispatch } from "./verbs.js";
import { VERSION } from "./version.js";

const HELP = `pyctl ${VERSION} -- control the pythond daemon

usage: pyctl <verb>
  start       run the daemon in the foreground (same as: pythond daemon)
  stop        stop the daemon and end its sessions
  restart     restart the daemon in the background; sessions live on and are re-adopted
  status      say whether a daemon answers (exit 1 if not)
  web         serve a web page for the sessions (--listen HOST:PORT); prints its address
Run "pyctl <verb> --help" for details.`;

const d = () => import("./commands/daemon.js");
process.exitCode = await dispatch(
  process.argv.slice(2),
  {
    start: async () => (await d()).daemon,
    stop: async () => (await d()).stop,
    status: async () => (await d()).status,
    restart: async () => (await d()).restart,
    web: async () => (await import("./commands/web.js")).web,
  },
  HELP,
);
