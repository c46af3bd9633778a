// The process-hop floor of a daemon round trip, measured beside it in the same run:
// this process -> a Node relay -> a Python echo -> back, over Unix sockets, with no framing or
// parsing at all. A pythond `run` makes the same hops (client -> daemon -> agent -> back) plus
// one thread hand-off inside the agent.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** Wait until a helper listens on its socket (it may not print anything we could wait for). */
async function listening(path, child) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`floor helper exited with status ${child.exitCode}`);
    try {
      const s = connect(path);
      await once(s, "connect");
      return s;
    } catch {
      if (Date.now() > deadline) throw new Error(`floor helper did not listen on ${path}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export async function startChain(python = "python3") {
  const dir = mkdtempSync(join(tmpdir(), "pyd-floor-"));
  const echo = spawn(python, [join(here, "echo.py"), join(dir, "echo.sock")], { stdio: "ignore" });
  (await listening(join(dir, "echo.sock"), echo)).destroy(); // a probe; the relay connects next
  const relay = spawn(process.execPath, [join(here, "relay.mjs"), join(dir, "echo.sock"), join(dir, "relay.sock")], { stdio: "ignore" });
  const sock = await listening(join(dir, "relay.sock"), relay);
  let wake = () => {};
  sock.on("data", () => wake());
  const payload = Buffer.alloc(64, 0x78);
  return {
    /** One round trip of 64 bytes through relay and echo. */
    roundTrip: () => new Promise((resolve) => {
      wake = resolve;
      sock.write(payload);
    }),
    close() {
      sock.destroy();
      relay.kill();
      echo.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
