// An append-only file kept open between writes (0600, O_APPEND, symlinks never followed).
// Logs are written on every request, so re-opening each time cost two syscalls per line;
// if the file is removed or replaced (log rotation), the next write after a second notices
// and opens the new one.
// Bounded: a write that would take the file past maxBytes first moves it to <path>.1 (the one
// older generation kept, replacing the previous one) and starts a new file, headed by
// `rotatedHeader` if given (a marker saying where the older lines went).
import { openSync, writeSync, closeSync, statSync, fstatSync, renameSync, constants } from "node:fs";

const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
const RECHECK_MS = 1000;
export const DEFAULT_LOG_MAX = 16 * 1024 * 1024;

/** The size cap of pythond's logs: PYTHOND_LOG_MAX bytes (at least 4 KiB), default 16 MiB. */
export function logMaxBytes(): number {
  const n = Number(process.env.PYTHOND_LOG_MAX);
  return Number.isInteger(n) && n >= 4096 ? n : DEFAULT_LOG_MAX;
}

export interface AppendFileOptions {
  maxBytes?: number;
  rotatedHeader?: string;
  /** The file is lines, each a record: a write may be cut at line ends when rotating. */
  lines?: boolean;
}

export class AppendFile {
  private fd: number | undefined;
  private ino = 0;
  private size = 0;
  private checkedAt = 0;

  constructor(readonly path: string, private readonly opts: AppendFileOptions = {}) {}

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
    if (this.fd === undefined) this.open(now);
    const max = this.opts.maxBytes ?? Infinity;
    // A write is one record (a cell's entry: never split between two files) unless the file
    // holds lines (the access log, written 20 ms of lines at a time): then a batch is cut at
    // line ends, rotating between the parts.
    let rest = Buffer.from(text);
    while (this.size + rest.length > max) {
      const room = max - this.size;
      const cut = this.opts.lines && room > 0 ? rest.lastIndexOf(0x0a, room - 1) + 1 : 0;
      if (cut > 0) {
        this.append(rest.subarray(0, cut));
        rest = rest.subarray(cut);
      } else if (this.size > this.headerBytes) this.rotate(now);
      else break; // a record (or a line) larger than a whole file is written whole
    }
    if (rest.length) this.append(rest);
  }

  private get headerBytes(): number {
    return this.opts.rotatedHeader ? Buffer.byteLength(this.opts.rotatedHeader) : 0;
  }

  private rotate(now: number): void {
    this.close();
    renameSync(this.path, `${this.path}.1`);
    this.open(now);
    if (this.opts.rotatedHeader) this.append(Buffer.from(this.opts.rotatedHeader));
  }

  private open(now: number): void {
    this.fd = openSync(this.path, FLAGS, 0o600);
    const st = fstatSync(this.fd);
    this.ino = st.ino;
    this.size = st.size;
    this.checkedAt = now;
  }

  private append(data: Buffer): void {
    this.size += writeSync(this.fd!, data);
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
