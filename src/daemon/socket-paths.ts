// Unix socket paths have a hard length limit (sun_path: 108 bytes with its NUL on Linux, 104
// on macOS and the BSDs). The daemon checks every socket it will ever bind -- its own, its
// lock, and its agents' in <sock>.d/ -- when it starts, so that a deep runtime dir fails once
// with the fix named, instead of at every `new`.
import { join } from "node:path";
import { agentDir, AGENT_SOCKET_SAMPLE } from "../util/paths.js";

export const MAX_SOCKET_PATH = process.platform === "linux" ? 107 : 103;

export class SocketPathError extends Error {
  override name = "SocketPathError";
}

/** Every socket path a daemon on `sock` binds: its own, its lock's, and its agents' (longest). */
export function socketPathsOf(sock: string, lock: string): string[] {
  return [sock, lock, join(agentDir(sock), AGENT_SOCKET_SAMPLE)];
}

export function checkSocketPaths(paths: readonly string[]): void {
  for (const p of paths) {
    const n = Buffer.byteLength(p);
    if (n > MAX_SOCKET_PATH) {
      throw new SocketPathError(
        `socket path too long: ${p} is ${n} bytes, a Unix socket path may have at most ${MAX_SOCKET_PATH} -- ` +
          `set PYTHOND_SOCK to a shorter path (such as /tmp/pythond-${process.getuid?.() ?? "$UID"}/pythond.sock)`,
      );
    }
  }
}
