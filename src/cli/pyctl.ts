// pyctl: control of the daemon (like systemctl).
import { dispatch } from "./verbs.js";
import { VERSION } from "./version.js";

const HELP = `pyctl ${VERSION} -- control the pythond daemon

usage: pyctl <verb>
  start       run the daemon in the foreground (same as: pythond daemon; --listen HOST:PORT [--tls] [--show-token])
  stop        stop the daemon and end its sessions
  restart     restart the daemon in the background; sessions live on and are re-adopted
  status      say whether a daemon answers (exit 1 if not)
  web         serve a web page for the sessions (--listen HOST:PORT); prints its address
  cert        show this machine's TLS certificate (made on first use)
  token       show the token TCP clients must send (--rotate replaces it)
  trust       accept a client certificate (mTLS; --list)
  untrust     stop accepting a client certificate
  pin         accept a server certificate (a file, or HOST:PORT on first contact; --list)
  unpin       forget a pinned server certificate
  connect     proxy an alias to a remote daemon's session (--tls, --token-file F)
  disconnect  drop a proxy
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
    cert: async () => (await import("./commands/cert.js")).cert,
    token: async () => (await import("./commands/token.js")).token,
    trust: async () => (await import("./commands/trust.js")).trust,
    untrust: async () => (await import("./commands/untrust.js")).untrust,
    pin: async () => (await import("./commands/pin.js")).pin,
    unpin: async () => (await import("./commands/unpin.js")).unpin,
    connect: async () => (await import("./commands/connect.js")).connect,
    disconnect: async () => (await import("./commands/connect.js")).disconnect,
  },
  HELP,
);
