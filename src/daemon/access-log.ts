// The access log: one ACCESS line per event, appended to <runtime>/access.log (0600, no
// symlinks followed) and mirrored to stderr. Never holds tokens or code.
import { join } from "node:path";
import { ensurePrivateDir } from "../util/private-dir.js";
import { AppendFile } from "../util/append-file.js";

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

const ORDER = ["conn_id", "peer", "cmd", "session", "status", "body_bytes", "detail"] as const;

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
  private stderrQueue = 0;

  constructor(private readonly dir: string, private readonly mirror = true) {
    this.file = new AppendFile(join(dir, "access.log"));
  }

  write(f: AccessFields): void {
    const line = formatAccess(f) + "\n";
    try {
      if (!this.dirReady) {
        ensurePrivateDir(this.dir);
        this.dirReady = true;
      }
      this.file.write(line);
    } catch {
      /* logging never breaks a command */
    }
    if (this.mirror && this.stderrQueue < 1024) {
      this.stderrQueue++;
      process.stderr.write(line, () => this.stderrQueue--);
    }
  }
}
