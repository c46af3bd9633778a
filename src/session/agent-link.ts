// Becoming a session agent's controller over its private socket: connect, read its hello,
// prove the session's secret (HMAC of the hello's nonce, agent-key.ts), then `adopt`. Used for
// a new agent, for one a previous daemon left (re-adoption) and to regain a dropped link: one
// code path. An agent of an older pythond sends no nonce and needs no proof.
import type { Link } from "../link/link.js";
import type { Frame } from "../link/frame.js";
import { proof } from "./agent-key.js";
import { linkOver, type AgentReach, type AgentStream } from "./reach.js";

export interface Hello {
  name: string;
  pid: number;
  python: string;
  executable: string;
  cwd: string;
  started: number;
  socket: string;
  /** Present when the agent wants the secret proved (agents of this pythond on). */
  nonce?: string;
  /** 1: it numbers its events, takes "ack" and resends after auth's "since" (resend.py). */
  resume?: number;
}

export interface AgentLinkHandlers {
  /** Called with the hello before the proof; throw to refuse this agent. */
  hello?(hello: Hello): void;
  /** Every frame after the hello. */
  event(frame: Frame): void;
  /** The link closed after it was established. */
  closed(err: Error | null): void;
}

export interface AgentLink {
  link: Link;
  stream: AgentStream;
  hello: Hello;
  /** The number of the agent's last event when we took over (resend.py), if it numbers them. */
  lastEvent?: number;
}

/**
 * Open a link to the agent that `reach` leads to and become its controller. `since`: the last
 * event number this daemon received from it (after a drop): the agent sends what followed first.
 */
export async function openAgentLink(reach: AgentReach, secret: () => string, timeoutMs: number, on: AgentLinkHandlers, since?: number): Promise<AgentLink> {
  const socketFile = reach.socket;
  const stream = await reach.open(timeoutMs);
  return new Promise<AgentLink>((resolve, reject) => {
    let hello: Hello | undefined;
    let lastEvent: number | undefined;
    let open = false;
    const fail = (e: Error) => {
      reject(e);
      link.shutdown(e);
    };
    const timer = setTimeout(() => fail(new Error(`agent at ${socketFile} did not become ours within ${timeoutMs} ms`)), timeoutMs);
    const link: Link = linkOver(stream, {
      onEvent: (f) => {
        if (hello) return on.event(f);
        if (f.header.k === "fatal") return fail(new Error(`agent failed to start: ${String(f.header.type)}: ${String(f.header.message)}`));
        if (f.header.k !== "hello") return fail(new Error(`agent sent ${String(f.header.k)} before hello`));
        hello = f.header as unknown as Hello;
        void (async () => {
          on.hello?.(hello);
          if (hello.nonce !== undefined) {
            const key = secret(); // throws if there is none to prove
            if (!key) throw new Error(`no secret to prove to the agent at ${socketFile}`);
            const resume = since !== undefined && hello.resume === 1 ? { since } : {};
            const authed = (await link.request("auth", { mac: proof(key, String(hello.nonce)), ...resume }, [], { timeoutMs })) as { result?: { q?: unknown } };
            if (Number.isSafeInteger(authed?.result?.q)) lastEvent = authed.result!.q as number;
          }
          // Our first request after the proof makes us the controller (its events come to us).
          await link.request("adopt", {}, [], { timeoutMs });
        })().then(
          () => {
            clearTimeout(timer);
            open = true;
            resolve({ link, stream, hello: hello!, lastEvent });
          },
          (e: Error) => {
            clearTimeout(timer);
            fail(e);
          },
        );
      },
      onClose: (err) => {
        clearTimeout(timer);
        stream.close();
        if (open) on.closed(err);
        else reject(err ?? new Error(`agent at ${socketFile} closed the connection`));
      },
    });
  });
}
