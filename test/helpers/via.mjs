// A daemon plus a real sshd on 127.0.0.1 for sessions made `--via ssh`: the "remote" account is
// this user with its own HOME in the test's temp dir (never a real ~/.pythond), and the prefix
// names the daemon's socket in the agent's environment, so the daemon helper's cleanup finds
// and ends the remote agents too.
import { mkdirSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { TestDaemon } from "./daemon.mjs";
import assert from "node:assert/strict";
import { startSshd, sshdMissing } from "./sshd.mjs";

/** The tests' skip option: false where a real sshd can run, else why not (said once). */
export const sshdSkip = (() => {
  const missing = sshdMissing();
  if (missing) console.log(`# skipping --via ssh tests: ${missing}`);
  return missing ?? false;
})();

/** A pysh result that must have succeeded, its stdout parsed as JSON. */
export function okJson(r) {
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout);
}

/** A started daemon and sshd; `via` is the --via prefix, `remoteAgents()` lists the agent dir there. */
export async function viaSetup(t, { sshd = true } = {}) {
  const d = new TestDaemon();
  t.after(() => d.cleanup());
  await d.start();
  const remoteHome = join(d.dir, "remote");
  mkdirSync(remoteHome, { mode: 0o700 });
  let server;
  if (sshd) {
    const dir = join(d.dir, "sshd");
    mkdirSync(dir, { mode: 0o700 });
    server = await startSshd(dir);
  }
  t.after(() => server?.stop());
  const remoteEnv = `env HOME=${remoteHome} PYTHOND_SOCK=${d.sock}`;
  const words = server ? [...server.argv(), ...remoteEnv.split(" ")] : remoteEnv.split(" ");
  const agentDir = join(remoteHome, ".pythond", "agents");
  return {
    d,
    server,
    remoteHome,
    agentDir,
    /** The prefix as one --via argument (each word is free of blanks and quotes). */
    via: words.join(" "),
    remoteAgents: () => (existsSync(agentDir) ? readdirSync(agentDir).sort() : []),
  };
}
