// Exactly one daemon per socket. The lock is a Unix socket at <sock>.lock that the daemon
// listens on for its whole life: the kernel closes it when the process ends, however it ends
// (kill -9 included), so a lock is live exactly when it answers. A pid is never trusted: after
// a crash it can name a zombie or a stranger that got the number.
// Taking it is atomic: we listen at a private temporary name and hard-link that to the lock
// name (link(2) fails if anything is there). A dead lock is moved aside before it is removed,
// and put back if it turns out to have come alive meanwhile (a racing starter took it).
// The daemon socket itself is probed too (a daemon that does not use this lock, such as
// pythond 0.4 or an older pythond, still answers there). We only ever unlink a socket nobody
// answers on, and on exit only our own (same inode).
import { linkSync, renameSync, unlinkSync, statSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { probeSocket } from "../util/probe-socket.js";
import { randomHex } from "../util/random.js";

export { probeSocket };

export class AlreadyRunningError extends Error {
  override name = "AlreadyRunningError";
}

interface Holder {
  live: boolean;
  /** What the holder said of itself (its pid), if it said it in time. */
  pid?: number;
}

/** Who answers on a Unix socket: a live lock's holder writes its pid and closes. */
function probeLock(path: string, timeoutMs = 1000): Promise<Holder> {
  return new Promise((resolve) => {
    const s = connect(path);
    let said = "";
    const finish = (h: Holder) => {
      clearTimeout(timer);
      s.destroy();
      resolve(h);
    };
    const pidOf = () => (/^\d+\n/.test(said) ? parseInt(said, 10) : undefined);
    // Accepted but silent still means someone holds it (a stopped process, or not our lock).
    const timer = setTimeout(() => finish({ live: true, pid: pidOf() }), timeoutMs);
    s.once("connect", () => s.setEncoding("latin1"));
    s.on("data", (d: string) => {
      said = (said + d).slice(0, 64);
      if (said.includes("\n")) finish({ live: true, pid: pidOf() });
    });
    s.once("end", () => finish({ live: true, pid: pidOf() }));
    s.once("error", (e: NodeJS.ErrnoException) => {
      // ECONNREFUSED: a socket nobody listens on (its daemon died), or a plain file (a lock of
      // an older pythond, which named a pid); ENOENT: removed meanwhile.
      const dead = e.code === "ECONNREFUSED" || e.code === "ENOENT" || e.code === "ENOTSOCK";
      finish({ live: !dead });
    });
  });
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const old = process.umask(0o177); // 0600 from the start: never a moment open to others
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolve();
    });
    process.umask(old);
  });
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* gone */
  }
}

export function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

function alreadyRunning(path: string, h: Holder): AlreadyRunningError {
  return new AlreadyRunningError(`pythond already running (${h.pid ? `pid ${h.pid}, ` : ""}it holds the lock ${path})`);
}

export class InstanceLock {
  private constructor(
    private readonly path: string,
    private readonly server: Server,
    private readonly ino: number | undefined,
  ) {}

  static async acquire(path: string): Promise<InstanceLock> {
    const server = createServer((c) => {
      c.on("error", () => {});
      c.end(`${process.pid}\n`);
    });
    server.unref();
    const tmp = `${path}.${randomHex(3)}`;
    await listen(server, tmp);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(tmp, path);
          return new InstanceLock(path, server, inodeOf(path));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        }
        const holder = await probeLock(path);
        if (holder.live) throw alreadyRunning(path, holder);
        await InstanceLock.removeDead(path);
      }
      throw new AlreadyRunningError(`another pythond is starting (it keeps taking the lock ${path})`);
    } catch (e) {
      server.close();
      throw e;
    } finally {
      unlinkQuietly(tmp); // the lock name (if we got it) keeps the socket
    }
  }

  /** Remove a lock found dead, unless it came alive meanwhile (then it is put back). */
  private static async removeDead(path: string): Promise<void> {
    const aside = `${path}.${randomHex(3)}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return; // someone else removed it
      throw e;
    }
    const holder = await probeLock(aside);
    if (!holder.live) return unlinkQuietly(aside);
    try {
      linkSync(aside, path); // a racing starter's live lock: give it back
    } catch {
      /* a third starter holds the name now: it will find the racer alive through its own probe */
    }
    unlinkQuietly(aside);
    throw alreadyRunning(path, holder);
  }

  release(): void {
    this.server.close();
    if (this.ino !== undefined && inodeOf(this.path) === this.ino) unlinkQuietly(this.path);
  }
}
