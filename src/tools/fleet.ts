// Fan-out: one call on many remotes with a concurrency limit and a per-host deadline.
// Every host gets its own result (value or error, plus duration); no host can sink the others.
import { RemoteError } from "./errors.js";
import type { MethodRef } from "./load-tool.js";
import { Remote, type RemoteOptions } from "./remote.js";
import type { AnyFn, CallOptions, ResultOf } from "./call-types.js";
import { mapLimit } from "../util/map-limit.js";

export { mapLimit };


export type HostResult<T> =
  | { host: string; ok: true; value: T; durationMs: number }
  | { host: string; ok: false; error: Error; durationMs: number };

export interface FleetOptions {
  /** Hosts worked on at once (default 16). */
  concurrency?: number;
  /** Per-host deadline for one call, including connecting if needed (default none). */
  deadlineMs?: number;
  /** Options for remotes the fleet starts itself. */
  remote?: RemoteOptions;
}

export interface FleetCallOptions extends Omit<CallOptions, "deadlineMs"> {
  concurrency?: number;
  deadlineMs?: number;
}

function withDeadline<T>(p: Promise<T>, ms: number | undefined, host: string): Promise<T> {
  if (ms === undefined) return p;
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new RemoteError({ type: "DeadlineExceeded", message: `${host}: no result within ${ms} ms` })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export class Fleet {
  private readonly remotes = new Map<string, Promise<Remote>>();

  /** hosts: name → argv (e.g. ["ssh", "web1", "python3"]) or an already started Remote. */
  constructor(
    private readonly hosts: Record<string, readonly string[] | Remote>,
    private readonly opts: FleetOptions = {},
  ) {}

  get names(): string[] {
    return Object.keys(this.hosts);
  }

  /** The host's remote, started on first use; a failed start is retried on the next call. */
  remote(host: string): Promise<Remote> {
    let r = this.remotes.get(host);
    if (!r) {
      const spec = this.hosts[host];
      if (spec === undefined) return Promise.reject(new Error(`unknown host ${host}`));
      r = spec instanceof Remote ? Promise.resolve(spec) : Remote.spawn(spec, this.opts.remote);
      r.catch(() => this.remotes.delete(host));
      this.remotes.set(host, r);
    }
    return r;
  }

  /** Call ref on every host (or `only` a subset); resolves with one HostResult per host, in order. */
  async call<F extends AnyFn>(ref: MethodRef<F>, args: Parameters<F>, options: FleetCallOptions & { only?: string[] } = {}): Promise<HostResult<ResultOf<F>>[]> {
    const names = options.only ?? this.names;
    const deadlineMs = options.deadlineMs ?? this.opts.deadlineMs;
    const limit = options.concurrency ?? this.opts.concurrency ?? 16;
    return mapLimit(names, limit, async (host) => {
      const t0 = performance.now();
      try {
        const started = this.remote(host);
        const value = await withDeadline(
          started.then((r) => r.callWith({ ...options, deadlineMs }, ref, ...args)),
          deadlineMs === undefined ? undefined : deadlineMs + 1000,
          host,
        );
        return { host, ok: true as const, value, durationMs: performance.now() - t0 };
      } catch (e) {
        return { host, ok: false as const, error: e as Error, durationMs: performance.now() - t0 };
      }
    });
  }

  /** Close every remote the fleet started (not ones passed in already started). */
  async close(): Promise<void> {
    const own = [...this.remotes].filter(([h]) => !(this.hosts[h] instanceof Remote));
    this.remotes.clear();
    await Promise.all(own.map(([, p]) => p.then((r) => r.close(), () => {})));
  }
}
