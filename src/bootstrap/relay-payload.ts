// The program that re-joins a session on another host after a drop: run through the same
// command prefix (`ssh web01 python3 -qui`), it connects to the agent's socket there and
// relays (agent/pythond_agent/relay.py, sent alone: a few KiB instead of the whole agent).
// It answers READY like the agent, or a GONE line with the reason when no agent is there.
// The same file holds the last resort of kill (end_agent), sent the same way.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { packageRoot } from "../util/package-root.js";
import { stage1 } from "./payload.js";

export const GONE_LINE = "PYTHOND GONE";

let source: string | undefined;

/** Stage 1, then relay.py and one call of it, for `python3 -qui` through the prefix. */
function program(call: string): Buffer {
  source ??= readFileSync(join(packageRoot(), "agent", "pythond_agent", "relay.py"), "utf8");
  const payload = deflateSync(Buffer.from(`${source}\n${call}\n`, "utf8"));
  return Buffer.concat([stage1(payload.length), payload]);
}

/** The relay to the agent at `socket` (a JSON string is a Python string literal). */
export function relayBytes(socket: string): Buffer {
  return program(`standalone(${JSON.stringify(socket)})`);
}

/** The last resort of kill: the agent's socket removed, its process group SIGKILLed. */
export function enderBytes(socket: string, pid: number): Buffer {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`not a process group: ${pid}`);
  return program(`end_agent(${JSON.stringify(socket)}, ${pid})`);
}
