// Whether a process lives, and ending an agent's process group: used for local agents and for
// the processes a remote agent's transport runs here.
import { readFileSync } from "node:fs";

/** Alive and not a zombie (a zombie's pid still answers kill 0). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !/^\S+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return true; // no /proc (macOS): kill 0 is all we have
  }
}

/** After the agent was asked to exit: wait for it, then TERM and KILL its process group. */
export async function endProcessGroup(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  const waitGone = async (ms: number) => {
    const until = Date.now() + ms;
    // An agent told to exit is usually gone (reaped) within a few ms: poll fast first, then
    // back off, so `new --replace` does not wait a fixed 20 ms tick for the old agent.
    for (let step = 2; alive() && Date.now() < until; step = Math.min(step * 2, 20)) await new Promise((r) => setTimeout(r, step));
    return !alive();
  };
  if (!(await waitGone(300))) {
    signalGroup("SIGTERM");
    if (!(await waitGone(3000))) {
      signalGroup("SIGKILL");
      await waitGone(1000);
    }
  } else signalGroup("SIGKILL"); // children left in its group
}
