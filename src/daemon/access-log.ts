// The access log: one ACCESS line per event, appended to <runtime>/access.log (0600, no
// symlinks followed, moved to access.log.1 past PYTHOND_LOG_MAX) and mirrored to stderr for
// supervisors -- unless stderr is that same runtime dir's daemon.log (a daemon pysh started in
// the background), which would only store every line twice. Never holds tokens or code.
// Lines are written in batches, at most FLUSH_MS after the event: two synchronous writes and
// two stderr lines per request cost more than the rest of a daemon round trip (see
// docs/PERFORMANCE.md). Stop and exit flush what is pending; only a SIGKILL can lose the last
// FLUSH_MS of lines.
import { join } from "node:path";
import { fstatSync, statSync } from "node:fs";
import { ensurePrivateDir } from "../util/private-dir.js";
import { AppendFile, logMaxBytes } from "../util/append-file.js";

export interface AccessFields {
  event: string;
  conn_id?: number;
  peer?: string;
  cmd?: string;
  session?: string;
  status?: string;
  body_bytes?: number;
  detail?: string;
}

/** Is our stderr the file at daemonLog (where a client points a daemon it starts, autostart.ts)? */
export function stderrIs(daemonLog: string): boolean {
  try {
    const a = fstatSync(2);
    const b = statSync(daemonLog);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

const ORDER = ["conn_id", "peer", "cmd", "session", "status", "body_bytes", "detail"] as const;
const FLUSH_MS = 20;
/** Lines mirrored to stderr per flush (as 0.4's 1024-line queue: the rest are dropped there). */
const MIRROR_LINES = 1024;

export function escapeValue(v: string): string {
  return v.replace(/[\\\r\n\t ]/g, (c) => ({ "\\": "\\\\", "\r": "\\r", "\n": "\\n", "\t": "\\t", " ": "\\s" })[c]!);
}

export function formatAccess(f: AccessFields, now = new Date()): string {
  let line = `ACCESS ts=${now.toISOString()} event=${escapeValue(f.event)}`;
  for (const key of ORDER) {
    const v = f[key];
    if (v === undefined) continue;
    line += ` ${key}=${escapeValue(String(v))}`;
  }
  return line;
}

export class AccessLog {
  private readonly file: AppendFile;
  private dirReady = false;
  /** Events not yet written, formatted only when written (off the request's path). */
  private pending: [number, AccessFields][] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly dir: string, private readonly mirror = true) {
    this.file = new AppendFile(join(dir, "access.log"), { maxBytes: logMaxBytes(), rotatedHeader: "# [pythond: earlier lines are in access.log.1]\n", lines: true });
  }

  write(f: AccessFields): void {
    this.pending.push([Date.now(), f]);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Write what is pending now (also called on stop and exit). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending.length) return;
    const lines = this.pending.map(([at, f]) => formatAccess(f, new Date(at)) + "\n");
    this.pending = [];
    try {
      if (!this.dirReady) {
        ensurePrivateDir(this.dir);
        this.dirReady = true;
      }
      this.file.write(lines.join(""));
    } catch {
      /* logging never breaks a command */
    }
    if (this.mirror) process.stderr.write(lines.slice(0, MIRROR_LINES).join(""));
  }
}
