// An append-only file kept open between writes (0600, O_APPEND, symlinks never followed).
// Logs are written on every request, so re-opening each time cost two syscalls per line;
// if the file is removed or replaced (log rotation), the next write after a second notices
// and opens the new one.
import { openSync, writeSync, closeSync, statSync, fstatSync, constants } from "node:fs";

const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
const RECHECK_MS = 1000;

export class AppendFile {
  private fd: number | undefined;
  private ino = 0;
  private checkedAt = 0;

  constructor(readonly path: string) {}

  /** Append text; throws what open/write throw (callers decide whether logging may fail). */
  write(text: string): void {
    const now = Date.now();
    if (this.fd !== undefined && now - this.checkedAt > RECHECK_MS) {
      this.checkedAt = now;
      let current = -1;
      try {
        current = statSync(this.path).ino;
      } catch {
        /* removed: reopen below */
      }
      if (current !== this.ino) this.close();
    }
    if (this.fd === undefined) {
      this.fd = openSync(this.path, FLAGS, 0o600);
      this.ino = fstatSync(this.fd).ino;
      this.checkedAt = now;
    }
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    this.fd = undefined;
  }
}
