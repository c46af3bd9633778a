// fire: a cell queued on the session's executor, answered with its id at once (poll reads it).
import type { DaemonContext } from "../context.js";
import { launch, type LaunchParams, type Launched } from "./launch.js";

export async function fire(_ctx: DaemonContext, p: LaunchParams): Promise<Launched> {
  return launch(p.s, p.code, "fire");
}
