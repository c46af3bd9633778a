// Exactly one daemon per socket: a lock file naming our pid, plus a probe of the socket
// (a daemon that does not use our lock, such as pythond 0.4, still answers there).
// We only ever unlink a socket nobody answers on, and on exit only our own (same inode).
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, statSync, constants } from "node:fs";
import { probeSocket } from "../util/probe-socket.js";

export { probeSocket };

export class AlreadyRunningError extends Error {
  override name = "AlreadyRunningError";
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class InstanceLock {
  private constructor(private readonly path: string) {}

  static acquire(path: string): InstanceLock {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new InstanceLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        let pid = NaN;
        try {
          pid = parseInt(readFileSync(path, "utf8"), 10);
        } catch {
          /* unreadable: treat as stale */
        }
        if (pidAlive(pid) && pid !== process.pid) throw new AlreadyRunningError(`pythond already running (pid ${pid})`);
        try {
          unlinkSync(path);
        } catch {
          /* raced with another starter; the retry decides */
        }
      }
    }
    throw new AlreadyRunningError("pythond is starting in another process");
  }

  release(): void {
    try {
      if (parseInt(readFileSync(this.path, "utf8"), 10) === process.pid) unlinkSync(this.path);
    } catch {
      /* gone */
    }
  }
}

export function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}
