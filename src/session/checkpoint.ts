// Checkpoint files of pythond 0.4 in ~/.pythond/sessions/<name>/ (every level 0700):
//   history.py  - successful cells, replayable as Python
//   session.log - every cell, OK or ERROR, with its output as "# > " lines
// Both 0600, appended, symlinks never followed.
import { join } from "node:path";
import { ensurePrivateDir } from "../util/private-dir.js";
import { AppendFile } from "../util/append-file.js";
import { sessionStateDir, stateDir } from "../util/paths.js";

/** The most output one log entry keeps; the rest is counted in a visible marker. */
export const LOG_OUTPUT_LIMIT = 64 * 1024;

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export class Checkpoint {
  private ready = false;
  private readonly dir: string;
  private readonly history: AppendFile;
  private readonly log: AppendFile;

  constructor(name: string) {
    this.dir = sessionStateDir(name);
    this.history = new AppendFile(join(this.dir, "history.py"));
    this.log = new AppendFile(join(this.dir, "session.log"));
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
      if (ok && code.trim()) this.history.write(`\n# [${when}]\n${code}\n`);
      let entry = `\n# [${when}] ${ok ? "OK" : "ERROR"}\n${code}\n`;
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
      this.log.write(`\n# [${stamp()}] OK\n${code}\n# > ${reply}\n`);
    } catch {
      /* best effort by design */
    }
  }

  close(): void {
    this.history.close();
    this.log.close();
  }
}
