// fork: a cell in a forked child (copy-on-write namespace, POSIX only), answered with its id.
import type { DaemonContext } from "../context.js";
import { DaemonError } from "../errors.js";
import { launch, type LaunchParams, type Launched } from "./launch.js";

export async function fork(_ctx: DaemonContext, p: LaunchParams): Promise<Launched> {
  if (process.platform === "win32") throw new DaemonError("unsupported", "fork not supported on Windows (no COW fork)");
  return launch(p.s, p.code, "fork");
}
