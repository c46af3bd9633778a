// Starts an agent: runs any argv that ends in a python3 (local, ssh, docker exec -i, sudo ...),
// with `-qui` appended (a bare local interpreter: `-u -c STAGE1`), bootstraps it over stdin and
// waits for the READY line. Noise printed before READY is tolerated; a start failure reports
// the exit status and the stderr tail.
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { bootstrapArgs, bootstrapBytes, READY_LINE } from "./payload.js";
import { cachedCode, codeKey } from "./code-cache.js";

export class AgentStartError extends Error {
  override name = "AgentStartError";
}

/** Keeps the last few lines of a stream (a transport's stderr), never blocking the stream. */
export class TailBuffer {
  private lines: string[] = [];
  private partial = "";
  constructor(private readonly keep = 10) {}
  push(chunk: Buffer): void {
    const text = this.partial + chunk.toString("utf8");
    const parts = text.split("\n");
    this.partial = parts.pop()!.slice(-2000);
    for (const line of parts) if (line.trim()) this.lines.push(line.slice(0, 2000));
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
  }
  text(): string {
    const all = this.partial.trim() ? [...this.lines, this.partial] : this.lines;
    return all.slice(-this.keep).join(" | ");
  }
}

export interface StartedAgent {
  child: ChildProcess;
  stdin: Writable;
  /** Paused at the READY line: attach a listener, then resume() it (Link does). */
  stdout: Readable;
  /** Bytes read after the READY line: the start of the frame stream. */
  rest: Buffer;
  stderr: TailBuffer;
  /** Where a {"k": "code"} frame from this agent goes (rememberCode), if it takes part. */
  codeKey: string | undefined;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  detached?: boolean;
  timeoutMs?: number;
  /** Close stdin once the bootstrap is written (agents that talk over another channel). */
  endInput?: boolean;
  /** Written instead of the agent's bootstrap: another program (relay-payload.ts). */
  bytes?: Buffer;
}

const MAX_NOISE = 64 * 1024;

export function startAgent(argv: readonly string[], config: object, opts: SpawnOptions = {}): Promise<StartedAgent> {
  if (!argv.length) return Promise.reject(new AgentStartError("empty command"));
  const { args, stage1InArgv } = bootstrapArgs(argv);
  const key = codeKey(argv);
  const code = cachedCode(key);
  const fullConfig = key !== undefined ? { ...config, report_code: true } : config;
  const child = spawn(argv[0], args, {
    stdio: ["pipe", "pipe", "pipe"],
    env: opts.env,
    cwd: opts.cwd,
    detached: opts.detached ?? false,
  });
  const stderr = new TailBuffer();
  const noise = new TailBuffer();
  child.stderr!.on("data", (c: Buffer) => stderr.push(c));
  child.stdin!.on("error", () => {}); // a dead child is reported through exit below
  return new Promise<StartedAgent>((resolve, reject) => {
    let seen: Buffer = Buffer.alloc(0);
    let done = false;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const timer = setTimeout(() => fail(`no handshake within ${timeoutMs} ms`), timeoutMs);
    const finish = () => {
      done = true;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
    };
    const describe = (why: string) => {
      let msg = `agent failed to start: ${why}`;
      const said = noise.text();
      if (said) msg += `. It said: ${said}`;
      const transport = stderr.text();
      if (transport) msg += `. Its transport said: ${transport}`;
      return msg;
    };
    const fail = (why: string) => {
      if (done) return;
      finish();
      child.kill("SIGKILL");
      reject(new AgentStartError(describe(why)));
    };
    const onExit = (code: number | null, signal: string | null) => {
      // Let the last stderr bytes arrive before describing the failure.
      setTimeout(() => fail(signal ? `process killed by ${signal}` : `process exited with status ${code}`), 20);
    };
    const onError = (e: Error) => fail(e.message);
    const onData = (chunk: Buffer) => {
      seen = seen.length ? Buffer.concat([seen, chunk]) : chunk;
      for (;;) {
        const nl = seen.indexOf(10);
        if (nl < 0) break;
        const line = seen.subarray(0, nl).toString("utf8").replace(/\r$/, "");
        seen = seen.subarray(nl + 1);
        if (line === READY_LINE) {
          // Hold further chunks until the consumer listens (Link resumes the stream).
          child.stdout!.pause();
          finish();
          resolve({ child, stdout: child.stdout!, stdin: child.stdin!, rest: seen, stderr, codeKey: key });
          return;
        }
        noise.push(Buffer.from(line + "\n"));
      }
      if (seen.length > MAX_NOISE) seen = seen.subarray(seen.length - 4096);
    };
    child.stdout!.on("data", onData);
    child.on("exit", onExit);
    child.on("error", onError);
    child.stdin!.write(opts.bytes ?? bootstrapBytes(fullConfig, stage1InArgv, code));
    if (opts.endInput) child.stdin!.end();
  });
}
