// pysh attach [--read-only] [session] : a human at the session's Python prompt (Ctrl-] detaches).
import { connect, verb, report, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { sessionName } from "../options.js";
import { ConnectError } from "../../client/errors.js";
import type { Client } from "../../client/client.js";
import { SCREEN_STREAM, encodeResize, encodeDetach } from "../../wire/structured.js";

export const HELP = `usage: pysh attach [--read-only] [session]   (default session: default)

Attaches this terminal to the session's interactive Python prompt: the same live namespace
the agent uses. Line editing, history (Up/Down, kept per session), Tab completion,
multi-line blocks, input() and getpass work. Several people may attach at once; all see the
same screen. A late attacher first sees the recent screen.
  Ctrl-]       detach (the session lives on); Ctrl-D on an empty line detaches too
  Ctrl-C       interrupt the running cell (the human's or the agent's), or clear the line
  --read-only  watch only: keystrokes are not sent (Ctrl-] still detaches)
Through a proxy: pysh attach <alias> [<remote-session>].
End the session with: pysh kill <session>. Exit: 0 detached, 1 error, 2 usage.`;

const CTRL_RIGHT_BRACKET = 0x1d;
const ATTACH_TIMEOUT_MS = 10_000;

const USAGE = "pysh attach [--read-only] [session]";
/** The remote session named after a proxy's alias, if any. */
let remote: string | undefined;
/** How long a re-attach waits for the daemon that `pyctl restart` starts. */
const REATTACH_WAIT_MS = 20_000;

export const attach = verb({ usage: USAGE, help: HELP, options: { "--read-only": "flag" } }, async ({ opts, args }) => {
  if (args.length > 2) throw new UsageError(`pysh attach: expected at most one session name, got ${args.length}`, USAGE);
  const session = args.length ? sessionName(args[0], USAGE) : "default";
  // Through a proxy: "<alias> <remote-session>" attaches to another session of its remote daemon.
  if (args.length === 2) remote = sessionName(args[1], USAGE);
  const readOnly = opts["read-only"] === true;
  if (!process.stdin.isTTY) {
    process.stderr.write("ERR attach failed: attach requires a TTY\n");
    return EXIT_ERROR;
  }
  let first = true;
  for (;;) {
    const r = await attachOnce(session, readOnly, first);
    if (r !== "restarting") return r;
    // The daemon went away keeping its sessions (pyctl restart): join the next one.
    first = false;
    process.stderr.write(`\r\npysh: the daemon is restarting; re-attaching to "${session}"...\r\n`);
    if (!(await daemonBack(REATTACH_WAIT_MS))) {
      process.stderr.write(`ERR no daemon answered within ${REATTACH_WAIT_MS / 1000} s; re-attach with: pysh attach ${session}\n`);
      return EXIT_ERROR;
    }
  }
});

async function daemonBack(ms: number): Promise<boolean> {
  const { Client } = await import("../../client/client.js");
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      (await Client.connect({ autostart: false, timeoutMs: 1000 })).close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

async function attachOnce(session: string, readOnly: boolean, first: boolean): Promise<number | "restarting"> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  let client: Client | undefined;
  let raw = false;
  let reading = false;
  let detaching = false;
  const onWinch = () => {
    if (stdout.isTTY) client?.sendRaw(encodeResize(stdout.rows, stdout.columns));
  };
  const detach = () => {
    if (detaching) return;
    detaching = true;
    client?.sendRaw(encodeDetach());
  };
  const onData = (chunk: Buffer) => {
    if (detaching) return;
    const at = chunk.indexOf(CTRL_RIGHT_BRACKET);
    const keys = at >= 0 ? chunk.subarray(0, at) : chunk;
    if (keys.length && !readOnly) client?.sendRaw(Buffer.from(keys));
    if (at >= 0) detach();
  };
  const restore = () => {
    if (raw) {
      try {
        stdin.setRawMode(false);
      } catch {
        /* terminal gone */
      }
      raw = false;
    }
    if (reading) {
      stdin.off("data", onData);
      stdin.off("end", detach);
      stdin.pause();
      reading = false;
    }
    process.off("SIGWINCH", onWinch);
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    client = await connect();
    const size = stdout.isTTY ? { rows: stdout.rows, cols: stdout.columns } : {};
    const c = client;
    const done = c.request("attach", { session, ...size, read_only: readOnly, ...(remote ? { remote } : {}) }, {
      event(name, fields) {
        if (name === "attached") {
          clearTimeout(timer);
          if (stdout.isTTY && first) stdout.write("\x1b[2J\x1b[H");
          stdin.setRawMode(true);
          raw = true;
          process.stderr.write(`pysh: attached to "${session}"${readOnly ? " (read-only)" : ""} | Ctrl-] to detach\r\n`);
          stdin.on("data", onData);
          stdin.on("end", detach);
          stdin.resume();
          reading = true;
          process.on("SIGWINCH", onWinch);
        } else if (name === "warning") {
          process.stderr.write(`pysh: ${String(fields.message)}\r\n`);
        }
      },
      output(stream, data) {
        if (stream === SCREEN_STREAM) stdout.write(data);
      },
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("attach timeout")), ATTACH_TIMEOUT_MS);
    });
    await Promise.race([done, timeout]);
    restore();
    process.stderr.write(`\r\npysh: detached from "${session}"\r\n`);
    return EXIT_OK;
  } catch (e) {
    restore();
    if (raw === false && e instanceof ConnectError && detaching) return EXIT_OK;
    if (e instanceof ConnectError && /sessions kept/.test(e.message) && !detaching) return "restarting";
    if (e instanceof ConnectError && /closed the connection/.test(e.message)) {
      const why = /daemon stopping/.test(e.message) ? "the daemon stopped (its sessions ended with it)" : "the attach stream ended unexpectedly";
      process.stderr.write(`\r\nERR ${why}; attach again with: pysh attach ${session}\n`);
      return EXIT_ERROR;
    }
    return report(e);
  } finally {
    clearTimeout(timer);
    restore();
    client?.close();
  }
}
