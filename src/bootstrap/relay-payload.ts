// The program that re-joins a session on another host after a drop: run through the same
// command prefix (`ssh web01 python3 -qui`), it connects to the agent's socket there and
// relays (agent/pythond_agent/relay.py, sent alone: a few KiB instead of the whole agent).
// It answers READY like the agent, or a GONE line with the reason when no agent is there.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { packageRoot } from "../util/package-root.js";
import { stage1 } from "./payload.js";

export const GONE_LINE = "PYTHOND GONE";

let source: string | undefined;

/** What to write to `python3 -qui` through the prefix: stage 1, then the relay for `socket`. */
export function relayBytes(socket: string): Buffer {
  source ??= readFileSync(join(packageRoot(), "agent", "pythond_agent", "relay.py"), "utf8");
  // A JSON string is a Python string literal.
  const payload = deflateSync(Buffer.from(`${source}\nstandalone(${JSON.stringify(socket)})\n`, "utf8"));
  return Buffer.concat([stage1(payload.length), payload]);
}
