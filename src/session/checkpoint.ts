// Checkpoint files of pythond 0.4 in ~/.pythond/sessions/<name>/ (every level 0700):
//   history.py  - successful cells, replayable as Python
//   session.log - every cell, OK or ERROR, with its output as "# > " lines
// Both 0600, appended, symlinks never followed, and bounded: one entry keeps at most
// HISTORY_CODE_LIMIT (history.py) or LOG_CODE_LIMIT + LOG_OUTPUT_LIMIT (session.log) of a cell,
// saying what it left out, and a file past PYTHOND_LOG_MAX (16 MiB) moves to <file>.1.
import { join } from "node:path";
import { ensurePrivateDir } from "../util/private-dir.js";
import { AppendFile, logMaxBytes } from "../util/append-file.js";
import { sessionStateDir, stateDir } from "../util/paths.js";

/** The most output one log entry keeps; the rest is counted in a visible marker. */
export const LOG_OUTPUT_LIMIT = 64 * 1024;
/** The most of a cell's code one session.log entry keeps. */
export const LOG_CODE_LIMIT = 64 * 1024;
/** A cell larger than this is not copied into history.py (a marker says so instead). */
export const HISTORY_CODE_LIMIT = 1024 * 1024;

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The first `limit` bytes of text (whole characters), and a line saying how much is left out. */
function clip(text: string, limit: number, what: string): string {
  const size = Buffer.byteLength(text);
  if (size <= limit) return text;
  // Slice first: a 60 MB cell costs no 60 MB copy here.
  const kept = Buffer.from(text.slice(0, limit), "utf8").subarray(0, limit).toString("utf8").replace(/\uFFFD$/, "");
  return `${kept}\n# [pythond: ${size - Buffer.byteLength(kept)} more bytes ${what} not logged]`;
}

export class Checkpoint {
  private ready = false;
  private readonly dir: string;
  private readonly history: AppendFile;
  private readonly log: AppendFile;

  constructor(name: string) {
    this.dir = sessionStateDir(name);
    const maxBytes = logMaxBytes();
    this.history = new AppendFile(join(this.dir, "history.py"), {
      maxBytes,
      rotatedHeader: "# [pythond: earlier cells are in history.py.1; a replay of this file starts here]\n",
    });
    this.log = new AppendFile(join(this.dir, "session.log"), { maxBytes, rotatedHeader: "# [pythond: earlier entries are in session.log.1]\n" });
  }

  get historyPath(): string {
    return join(this.dir, "history.py");
  }

  private prepare(): void {
    if (this.ready) return;
    ensurePrivateDir(stateDir());
    ensurePrivateDir(join(stateDir(), "sessions"));
    ensurePrivateDir(this.dir);
    this.ready = true;
  }

  /** Record one finished cell. Never throws: a full disk must not fail a command. */
  record(code: string, ok: boolean, output: string, droppedFromLog = 0): void {
    try {
      this.prepare();
      const when = stamp();
      const size = Buffer.byteLength(code);
      if (ok && code.trim()) {
        const body = size <= HISTORY_CODE_LIMIT ? code : `# [pythond: a cell of ${size} bytes is not recorded here (over ${HISTORY_CODE_LIMIT}); replay will miss it]`;
        this.history.write(`\n# [${when}]\n${body}\n`);
      }
      let entry = `\n# [${when}] ${ok ? "OK" : "ERROR"}\n${clip(code, LOG_CODE_LIMIT, "of code")}\n`;
      const trimmed = output.replace(/\n+$/, "");
      if (trimmed) for (const line of trimmed.split("\n")) entry += `# > ${line}\n`;
      if (droppedFromLog) entry += `# > [pythond: ${droppedFromLog} more bytes of output not logged]\n`;
      this.log.write(entry);
    } catch {
      /* best effort by design */
    }
  }

  /** A fire/fork launch: an OK entry whose output is the launch reply (as 0.4). */
  recordLaunch(code: string, reply: string): void {
    try {
      this.prepare();
      this.log.write(`\n# [${stamp()}] OK\n${clip(code, LOG_CODE_LIMIT, "of code")}\n# > ${reply}\n`);
    } catch {
      /* best effort by design */
    }
  }

  close(): void {
    this.history.close();
    this.log.close();
  }
}
