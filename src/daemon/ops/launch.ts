// What fire and fork share: start a cell in the background and answer with its id at once.
// The launch goes to session.log as the same line whichever protocol asked.
import type { SessionHandle } from "../../session/handle.js";

export interface LaunchParams {
  s: SessionHandle;
  code: string;
}

export interface Launched {
  cell_id: string;
  status: "fired" | "forked";
}

export async function launch(s: SessionHandle, code: string, mode: "fire" | "fork"): Promise<Launched> {
  const { cell_id } = await s.exec(code, mode);
  const reply: Launched = { cell_id, status: mode === "fire" ? "fired" : "forked" };
  s.checkpoint.recordLaunch(code, JSON.stringify(reply));
  return reply;
}

