// A real OpenSSH server on 127.0.0.1 for transport tests: throwaway host and user keys in a
// temp dir, started as the current user on a free port, killed (by pid) after the test.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync, readFileSync, chmodSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join } from "node:path";
import { userInfo } from "node:os";

export const SSHD = "/usr/sbin/sshd";

export function sshdMissing() {
  if (!existsSync(SSHD)) return `${SSHD} not installed (Debian package openssh-server)`;
  try {
    execFileSync("ssh-keygen", ["-?"], { stdio: "ignore" });
  } catch (e) {
    if (e.code === "ENOENT") return "ssh-keygen not installed (openssh-client)";
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function waitPort(port, deadlineMs) {
  const until = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const c = connect(port, "127.0.0.1");
      c.once("data", () => {
        c.destroy();
        resolve();
      });
      c.once("error", () => {
        c.destroy();
        if (Date.now() > until) reject(new Error(`sshd did not listen on ${port} within ${deadlineMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Start sshd; returns {port, key, argv(prefix for Remote.spawn), stop()}. */
export async function startSshd(dir) {
  const hostKey = join(dir, "host_ed25519");
  const userKey = join(dir, "user_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", userKey]);
  const auth = join(dir, "authorized_keys");
  writeFileSync(auth, readFileSync(userKey + ".pub"));
  chmodSync(auth, 0o600);
  // Privilege separation directory that Debian's sshd insists on.
  if (userInfo().uid === 0 && !existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${auth}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `PasswordAuthentication no`,
      `KbdInteractiveAuthentication no`,
      `PubkeyAuthentication yes`,
      `PermitRootLogin yes`,
      `StrictModes no`,
      `UsePAM no`,
      `LogLevel ERROR`,
    ].join("\n") + "\n",
  );
  let child, exited;
  const listen = async () => {
    child = spawn(SSHD, ["-D", "-e", "-f", config, "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (c) => (err += c).slice(-4000));
    exited = new Promise((r) => child.once("exit", r));
    try {
      await Promise.race([waitPort(port, 10_000), exited.then(() => Promise.reject(new Error(`sshd exited: ${err}`)))]);
    } catch (e) {
      child.kill("SIGKILL");
      throw e;
    }
  };
  await listen();
  const base = ["ssh", "-T", "-p", String(port), "-i", userKey, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"];
  return {
    port,
    userKey,
    argv: (...remote) => [...base, `${userInfo().username}@127.0.0.1`, ...remote],
    base,
    /** Listen again on the same port, with the same keys (after stop). */
    start: listen,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    },
  };
}
