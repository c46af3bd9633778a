// Reaching a session agent on another host through a command prefix (`ssh web01`,
// `docker exec -i box`, `sudo -u svc`, `env ...`): the first link is the bootstrap's own
// pipes (the bootstrap process relays them to the detached agent, agent/pythond_agent/detach.py);
// every later one runs the prefix again with the small relay program (relay-payload.ts).
// Drops are normal here: the daemon re-joins with backoff until the agent's idle TTL would have
// ended it, and learns it is gone only when a relay says so (GONE: no agent at its socket).
import type { ChildProcess } from "node:child_process";
import { startAgent, AgentStartError, type StartedAgent } from "../bootstrap/spawn.js";
import { relayBytes, enderBytes, GONE_LINE } from "../bootstrap/relay-payload.js";
import { removeKey } from "./agent-key.js";
import type { AgentReach, AgentStream } from "./reach.js";

/** Longest wait between two attempts to re-join a dropped link. */
const MAX_BACKOFF_MS = 10_000;
const FIRST_BACKOFF_MS = 250;

/** What `pysh ls` shows for a prefix: "ssh web01", "docker box", else the prefix itself. */
export function describeVia(prefix: readonly string[]): string {
  const base = (prefix[0] ?? "").split("/").pop() ?? "";
  if (base === "ssh") {
    // ssh options that take a value (ssh(1)); the destination is the first other word.
    const withValue = new Set("BbcDEeFIiJLlmOoPpQRSWw".split("").map((c) => `-${c}`));
    for (let i = 1; i < prefix.length; i++) {
      const a = prefix[i];
      if (withValue.has(a)) i++;
      else if (!a.startsWith("-")) return `ssh ${a}`;
    }
  }
  if ((base === "docker" || base === "podman" || base === "kubectl") && prefix[1] === "exec") {
    const target = prefix.slice(2).find((a) => !a.startsWith("-"));
    if (target) return `${base} ${target}`;
  }
  const all = prefix.join(" ");
  return all.length > 60 ? `${all.slice(0, 57)}...` : all;
}

/** The stream of a started bootstrap or relay: its stdout and stdin, after the READY line. */
export function childStream(started: StartedAgent): AgentStream {
  return {
    input: started.stdout,
    output: started.stdin,
    head: started.rest,
    close: () => {
      if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill("SIGTERM");
    },
  };
}

export class ViaReach implements AgentReach {
  readonly remote = true;
  readonly where: string;
  private gone = false;
  private readonly relays = new Set<ChildProcess>();

  constructor(
    readonly prefix: string[],
    readonly python: string,
    /** The agent's socket on its host (from its hello). */
    public socket: string,
    /** The daemon's 0600 record of this session (`<id>.via`). */
    readonly record: string,
    private readonly idleTtlMs: number,
    private readonly env: NodeJS.ProcessEnv,
    /** The bootstrap's own stream: the first link. */
    private initial?: AgentStream,
  ) {
    this.where = describeVia(prefix);
  }

  async open(timeoutMs: number): Promise<AgentStream> {
    const first = this.initial;
    if (first) {
      this.initial = undefined;
      return first;
    }
    let started: StartedAgent;
    try {
      started = await startAgent([...this.prefix, this.python], {}, { bytes: relayBytes(this.socket), timeoutMs, env: this.env });
    } catch (e) {
      const text = (e as Error).message;
      const at = text.indexOf(GONE_LINE);
      if (at < 0) throw e;
      this.gone = true; // the relay got there, and nobody answers at the socket
      throw new AgentStartError(`agent on ${this.where} is gone: ${text.slice(at + GONE_LINE.length).split(" | ")[0].trim()}`);
    }
    this.relays.add(started.child);
    started.child.once("exit", () => this.relays.delete(started.child));
    return childStream(started);
  }

  mayLive(): boolean {
    return !this.gone;
  }

  /** Backoff from 250 ms to 10 s, for as long as the agent would wait for us (its idle TTL). */
  *regainDelays(): Iterable<number> {
    const until = Date.now() + this.idleTtlMs;
    for (let delay = 0; !this.gone && Date.now() < until; delay = Math.min(MAX_BACKOFF_MS, delay ? delay * 2 : FIRST_BACKOFF_MS)) yield delay;
  }

  /** The agent ends itself on the kill op (its keeper and forks with it). If it did not hear
   * it, one more run of the prefix removes its socket and SIGKILLs its process group. */
  async end(pid: number, heard: boolean): Promise<void> {
    for (const child of this.relays) child.kill("SIGTERM");
    if (!heard && !this.gone) {
      try {
        const ender = await startAgent([...this.prefix, this.python], {}, { bytes: enderBytes(this.socket, pid), timeoutMs: 15_000, env: this.env });
        ender.stdin.end();
      } catch {
        /* unreachable: it ends after its idle TTL */
      }
    }
    removeKey(this.record);
  }
}
