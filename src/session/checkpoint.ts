// Checkpoint files of pythond 0.4 in ~/.pythond/sessions/<name>/ (every level 0700):
//   history.py  - successful cells, replayable as Python
//   session.log - every cell, OK or ERROR, with its output as "# > " lines
// Both 0600, appended, symlinks never followed.
import { openSync, writeSync, closeSync, constants } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir } from "../util/private-dir.js";
import { sessionStateDir, stateDir } from "../util/paths.js";

/** The most output one log entry keeps; the rest is counted in a visible marker. */
export const LOG_OUTPUT_LIMIT = 64 * 1024;

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function append(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export class Checkpoint {
  private ready = false;
  private readonly dir: string;

  constructor(name: string) {
    this.dir = sessionStateDir(name);
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
      if (ok && code.trim()) append(this.historyPath, `\n# [${when}]\n${code}\n`);
      let entry = `\n# [${when}] ${ok ? "OK" : "ERROR"}\n${code}\n`;
      const trimmed = output.replace(/\n+$/, "");
      if (trimmed) for (const line of trimmed.split("\n")) entry += `# > ${line}\n`;
      if (droppedFromLog) entry += `# > [pythond: ${droppedFromLog} more bytes of output not logged]\n`;
      append(join(this.dir, "session.log"), entry);
    } catch {
      /* best effort by design */
    }
  }

  /** A fire/fork launch: an OK entry whose output is the launch reply (as 0.4). */
  recordLaunch(code: string, reply: string): void {
    try {
      this.prepare();
      append(join(this.dir, "session.log"), `\n# [${stamp()}] OK\n${code}\n# > ${reply}\n`);
    } catch {
      /* best effort by design */
    }
  }
}
