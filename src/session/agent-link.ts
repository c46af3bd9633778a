// Becoming a session agent's controller over its private socket: connect, read its hello,
// prove the session's secret (HMAC of the hello's nonce, agent-key.ts), then `adopt`. Used for
// a new agent, for one a previous daemon left (re-adoption) and to regain a dropped link: one
// code path. An agent of an older pythond sends no nonce and needs no proof.
import { connect, type Socket } from "node:net";
import { Link } from "../link/link.js";
import type { Frame } from "../link/frame.js";
import { proof } from "./agent-key.js";

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
  sock: Socket;
  hello: Hello;
}

function connectUnix(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer from ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once("connect", () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function openAgentLink(socketFile: string, secret: () => string, timeoutMs: number, on: AgentLinkHandlers): Promise<AgentLink> {
  const sock = await connectUnix(socketFile, timeoutMs);
  return new Promise<AgentLink>((resolve, reject) => {
    let hello: Hello | undefined;
    let open = false;
    const fail = (e: Error) => {
      reject(e);
      link.shutdown(e);
    };
    const timer = setTimeout(() => fail(new Error(`agent at ${socketFile} did not become ours within ${timeoutMs} ms`)), timeoutMs);
    const link: Link = new Link(sock, sock, {
      onEvent: (f) => {
        if (hello) return on.event(f);
        if (f.header.k !== "hello") return fail(new Error(`agent sent ${String(f.header.k)} before hello`));
        hello = f.header as unknown as Hello;
        void (async () => {
          on.hello?.(hello);
          if (hello.nonce !== undefined) {
            const key = secret(); // throws if there is none to prove
            if (!key) throw new Error(`no secret to prove to the agent at ${socketFile}`);
            await link.request("auth", { mac: proof(key, String(hello.nonce)) }, [], { timeoutMs });
          }
          // Our first request after the proof makes us the controller (its events come to us).
          await link.request("adopt", {}, [], { timeoutMs });
        })().then(
          () => {
            clearTimeout(timer);
            open = true;
            resolve({ link, sock, hello: hello! });
          },
          (e: Error) => {
            clearTimeout(timer);
            fail(e);
          },
        );
      },
      onClose: (err) => {
        clearTimeout(timer);
        if (open) on.closed(err);
        else reject(err ?? new Error(`agent at ${socketFile} closed the connection`));
      },
    });
  });
}
