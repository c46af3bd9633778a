// pysh attach [--read-only] [session] : a human at the session's Python prompt (Ctrl-] detaches).
import { connect, takeOptions, wantsHelp, out, report, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { ConnectError } from "../../client/errors.js";
import type { Client } from "../../client/client.js";

export const HELP = `usage: pysh attach [--read-only] [session]   (default session: default)

Attaches this terminal to the session's interactive Python prompt: the same live namespace
the agent uses. Line editing, history (Up/Down, kept per session), Tab completion,
multi-line blocks, input() and getpass work. Several people may attach at once; all see the
same screen. A late attacher first sees the recent screen.
  Ctrl-]       detach (the session lives on); Ctrl-D on an empty line detaches too
  Ctrl-C       interrupt the running cell (the human's or the agent's), or clear the line
  --read-only  watch only: keystrokes are not sent (Ctrl-] still detaches)
End the session with: pysh kill <session>. Exit: 0 detached, 1 error, 2 usage.`;

const CTRL_RIGHT_BRACKET = 0x1d;
const SCREEN_STREAM = 3;
const ATTACH_TIMEOUT_MS = 10_000;

export async function attach(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let readOnly = false;
  let session: string;
  try {
    const { opts, rest } = takeOptions(argv, { "read-only": "flag" });
    if (rest.length > 1) throw new UsageError("pysh attach [--read-only] [session]");
    readOnly = opts["read-only"] === true;
    session = rest[0] ?? "default";
  } catch (e) {
    return report(e);
  }
  const stdin = process.stdin;
  const stdout = process.stdout;
  if (!stdin.isTTY) {
    process.stderr.write("ERR attach failed: attach requires a TTY\n");
    return EXIT_ERROR;
  }
  let client: Client | undefined;
  let raw = false;
  let reading = false;
  let detaching = false;
  const onWinch = () => {
    if (stdout.isTTY) client?.sendRaw(JSON.stringify({ op: "resize", rows: stdout.rows, cols: stdout.columns }));
  };
  const detach = () => {
    if (detaching) return;
    detaching = true;
    client?.sendRaw(JSON.stringify({ op: "detach" }));
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
    const done = c.request("attach", { session, ...size, read_only: readOnly }, {
      event(name, fields) {
        if (name === "attached") {
          clearTimeout(timer);
          if (stdout.isTTY) stdout.write("\x1b[2J\x1b[H");
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
    if (e instanceof ConnectError && /closed the connection/.test(e.message)) {
      process.stderr.write("\r\nERR attach stream ended unexpectedly\n");
      return EXIT_ERROR;
    }
    return report(e);
  } finally {
    clearTimeout(timer);
    restore();
    client?.close();
  }
}
