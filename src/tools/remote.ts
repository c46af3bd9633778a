// A tool connection: one agent started over any stdio transport (python3, ssh host python3,
// docker exec -i c python3, sudo -u u python3 ...). Calls are matched by id, many in flight;
// a class's module is synced on its first call through this connection (once, even when first
// calls race), pipelined with that call.
import { EventEmitter } from "node:events";
import type { ChildProcess } from "node:child_process";
import { startAgent } from "../bootstrap/spawn.js";
import { rememberCode } from "../bootstrap/code-cache.js";
import { Link, LinkClosedError, LinkRemoteError, LinkTimeoutError, type Reply } from "../link/link.js";
import { RequestHead, type Frame } from "../link/frame.js";
import { decodeValue, encodeValue } from "./codec.js";
import { RemoteClosedError, RemoteError } from "./errors.js";
import type { MethodRef, ToolDef } from "./load-tool.js";
import { RemoteStream } from "./stream.js";
import { download, upload } from "./transfer-tree.js";
import type { TransferOptions, TransferResult } from "./transfer.js";
import type { AnyFn, CallOptions, ItemOf, ResultOf } from "./call-types.js";

export type { CallOptions, ItemOf, ResultOf } from "./call-types.js";

export interface RemoteLogRecord {
  /** Remote logger name. */
  logger: string;
  /** Python level number (10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR, 50 CRITICAL). */
  level: number;
  message: string;
  /** Formatted exception text when the record carried one. */
  exception: string | null;
  /** Remote time.time() of the record. */
  created: number;
}

export interface RemoteOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Deadline for the bootstrap handshake (default 30 s). */
  startTimeoutMs?: number;
  /** Size of the agent's thread pool for synchronous methods (default min(32, cpus + 4)). */
  pool?: number;
  /** Remote logging records; default: WARNING and above are written to stderr. */
  onLog?: (record: RemoteLogRecord) => void;
  /** Largest frame accepted either way (default 256 MiB). */
  maxFrame?: number;
  /** How long close() waits for the remote to exit before terminating it (default 5 s). */
  closeTimeoutMs?: number;
}

/** Extra local wait after a remote deadline, for a remote too wedged to report it. */
const DEADLINE_GRACE_MS = 2000;

function defaultLog(r: RemoteLogRecord): void {
  if (r.level >= 30) process.stderr.write(`[remote ${r.logger}] ${r.message}${r.exception ? `\n${r.exception}` : ""}\n`);
}

/** How calls to one method are headed on one connection (see Remote.headFor). */
interface CallShape {
  /** The first call's head: the method's names and the handle they are bound to. */
  readonly first: RequestHead;
  /** Every later call's head: the handle alone (the names again when out of handles). */
  readonly next: RequestHead;
  sent: boolean;
}

/** Handles per connection; a connection that calls more distinct methods names the rest in full. */
const MAX_HANDLES = 4096;

export class Remote {
  private readonly synced = new Map<string, Promise<void> | true>();
  /** Call heads by method (names, for method references made on the fly), and by reference. */
  private readonly shapes = new Map<string, CallShape>();
  private readonly shapeOf = new WeakMap<MethodRef, CallShape>();
  /** Stream consumers by request id. */
  readonly streams = new Map<number, RemoteStream<unknown>>();
  private exitStatus: number | null = null;
  private codeKey: string | undefined;
  private readonly onLog: (r: RemoteLogRecord) => void;
  private closing: Promise<void> | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    readonly link: Link,
    readonly child: ChildProcess,
    opts: RemoteOptions,
  ) {
    this.onLog = opts.onLog ?? defaultLog;
    this.exited = new Promise((res) => {
      if (child.exitCode !== null || child.signalCode !== null) res();
      else child.once("exit", () => res());
    });
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 5000;
  }
  private readonly closeTimeoutMs: number;

  /** Start python3 through argv (with -qui appended) and bootstrap the tool agent. */
  static async spawn(argv: readonly string[], opts: RemoteOptions = {}): Promise<Remote> {
    const started = await startAgent(argv, { mode: "tools", pool: opts.pool, maxFrame: opts.maxFrame }, {
      env: opts.env,
      cwd: opts.cwd,
      timeoutMs: opts.startTimeoutMs,
    });
    const { child, stdout, stdin, rest } = started;
    // The link reads through a relay so that the end of stdout can be reported with the exit
    // status ("remote exited with status N") rather than as a bare EOF.
    const relay = new EventEmitter();
    const link = new Link(relay as any, stdin, { maxFrame: opts.maxFrame });
    const remote = new Remote(link, child, opts);
    remote.codeKey = started.codeKey;
    link.onEvent = (f) => remote.event(f);
    stdout.on("data", (c: Buffer) => relay.emit("data", c));
    stdout.on("error", (e: Error) => relay.emit("error", e));
    stdout.once("end", () => {
      const why = () => relay.emit("error", remote.endReason(started.stderr.text()));
      if (child.exitCode !== null || child.signalCode !== null) why();
      else {
        const t = setTimeout(why, 200);
        child.once("exit", () => {
          clearTimeout(t);
          why();
        });
      }
    });
    if (rest.length) link.receive(rest);
    stdout.resume(); // startAgent hands stdout over paused, so no chunk is emitted unheard
    return remote;
  }

  private endReason(stderrTail: string): Error {
    if (this.closing) return new RemoteClosedError("remote closed", this.child.exitCode);
    const status = this.exitStatus ?? this.child.exitCode;
    let msg: string;
    if (status !== null) msg = `remote exited with status ${status}`;
    else if (this.child.signalCode) msg = `remote was killed by ${this.child.signalCode}`;
    else msg = "remote closed its output";
    if (stderrTail) msg += `. Its transport said: ${stderrTail}`;
    return new RemoteClosedError(msg, status);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get closed(): boolean {
    return this.link.closed;
  }

  private event(f: Frame): void {
    const h = f.header;
    switch (h.k) {
      case "it": {
        const s = this.streams.get(h.i as number);
        if (s) s.push(h.v as unknown[], f.blobs);
        return;
      }
      case "log": {
        const r = h.r as unknown[];
        if (!Array.isArray(r)) return;
        try {
          this.onLog({
            logger: String(r[0]),
            level: Number(r[1]),
            message: String(r[2]),
            exception: r[3] == null ? null : String(r[3]),
            created: Number(r[4]),
          });
        } catch {
          /* a failing log handler must not break calls */
        }
        return;
      }
      case "exit":
        this.exitStatus = Number(h.status);
        this.link.shutdown(new RemoteClosedError(`remote exited with status ${this.exitStatus}`, this.exitStatus));
        return;
      case "code":
        rememberCode(this.codeKey, f);
        return;
      case "fatal": {
        const e = (h.e ?? {}) as Record<string, unknown>;
        const why = e.type === "LinkError" ? "the agent rejected our stream" : "the agent failed";
        this.link.shutdown(new RemoteClosedError(`${why}: ${String(e.message)}`));
        return;
      }
    }
  }

  /** Sync a tool's module on first use; resolves at once (undefined) when already synced. */
  private ensureSynced(def: ToolDef): Promise<void> | undefined {
    const state = this.synced.get(def.key);
    if (state === true) return undefined;
    if (state) return state;
    const fields =
      def.kind === "builtin"
        ? { key: def.key, kind: "builtin", module: def.module }
        : { key: def.key, kind: "module", module: def.module, src: def.source, file: def.file };
    const p = this.link.request("sync", fields).then(
      () => {
        this.synced.set(def.key, true);
      },
      (e) => {
        this.synced.delete(def.key); // a failed load is retried by the next call
        throw mapError(e);
      },
    );
    this.synced.set(def.key, p);
    return p;
  }

  /** Call a tool method: `await remote.call(T.method, ...args)`. */
  call<F extends AnyFn>(ref: MethodRef<F>, ...args: Parameters<F>): Promise<ResultOf<F>> {
    return this.invoke(NO_OPTIONS, ref, args);
  }

  /** Call with a deadline, an AbortSignal or keyword arguments. */
  callWith<F extends AnyFn>(opts: CallOptions, ref: MethodRef<F>, ...args: Parameters<F>): Promise<ResultOf<F>> {
    return this.invoke(opts, ref, args);
  }

  private invoke(opts: CallOptions, ref: MethodRef, args: unknown[]): Promise<any> {
    let callP: Promise<any>;
    let syncing: Promise<void> | undefined;
    try {
      checkDeadline(opts.deadlineMs);
      checkRef(ref);
      if (opts.signal) {
        const blobs: Uint8Array[] = [];
        const fields = this.callFields(ref, args, opts, blobs);
        syncing = this.ensureSynced(ref.tool);
        callP = this.send("call", fields, blobs, opts).then(decodeReply);
      } else {
        // The hot path: the head is encoded once per method, the handle stands for its names.
        const blobs: Uint8Array[] = args.length || opts.kwargs ? [] : NO_BLOBS;
        const more = callArgs(args, opts, blobs);
        syncing = this.ensureSynced(ref.tool);
        const how = opts.deadlineMs !== undefined ? { timeoutMs: opts.deadlineMs + DEADLINE_GRACE_MS, ...PLAIN } : PLAIN;
        callP = this.link.requestWith(this.headFor(ref), more, blobs, how);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    if (!syncing) return callP;
    // The call may fail (an abort, the link closing) while the sync is still out: it is handed
    // on below, so it must not count as unhandled meanwhile.
    callP.catch(() => {});
    return syncing.then(() => callP);
  }

  /**
   * The head of the next call to ref: the first names the method and binds it to a handle
   * (a small number of this connection's), later ones carry the handle alone. A call frame of a
   * method without arguments is then ~45 bytes, not ~90: twice the calls in a socket buffer, and
   * less to encode and to parse on either side.
   */
  private headFor(ref: MethodRef): RequestHead {
    let shape = this.shapeOf.get(ref);
    if (!shape) {
      const def = ref.tool;
      const name = `${def.key}\0${def.qualname}\0${ref.method}`;
      shape = this.shapes.get(name);
      if (!shape) {
        const names = { t: def.key, c: def.qualname, m: ref.method };
        if (this.shapes.size < MAX_HANDLES) {
          const h = this.shapes.size + 1;
          shape = { first: new RequestHead("call", { ...names, h }), next: new RequestHead("call", { h }), sent: false };
        } else {
          const head = new RequestHead("call", names);
          shape = { first: head, next: head, sent: true };
        }
        this.shapes.set(name, shape);
      }
      this.shapeOf.set(ref, shape);
    }
    if (shape.sent) return shape.next;
    shape.sent = true;
    return shape.first;
  }

  /** Stream an async generator method: `for await (const x of remote.stream(T.gen, ...))`. */
  stream<F extends AnyFn>(ref: MethodRef<F>, ...args: Parameters<F>): RemoteStream<ItemOf<F>> {
    return this.streamWith({}, ref, ...args);
  }

  streamWith<F extends AnyFn>(opts: CallOptions, ref: MethodRef<F>, ...args: Parameters<F>): RemoteStream<ItemOf<F>> {
    return new RemoteStream<ItemOf<F>>(this, () => {
      checkDeadline(opts.deadlineMs);
      const blobs: Uint8Array[] = [];
      const fields = this.callFields(ref, args, opts, blobs);
      return { syncing: this.ensureSynced(ref.tool), fields, blobs, opts };
    });
  }

  private callFields(ref: MethodRef, args: unknown[], opts: CallOptions, blobs: Uint8Array[]): Record<string, unknown> {
    checkRef(ref);
    const fields: Record<string, unknown> = { t: ref.tool.key, c: ref.tool.qualname, m: ref.method };
    if (args.length) fields.a = encodeValue(args, blobs);
    if (opts.kwargs && Object.keys(opts.kwargs).length) fields.kw = encodeValue(opts.kwargs, blobs);
    if (opts.deadlineMs !== undefined) fields.dl = opts.deadlineMs;
    return fields;
  }

  /** Send one request; cancels reach the agent; errors become RemoteError / RemoteClosedError. */
  send(op: string, fields: Record<string, unknown>, blobs: Uint8Array[], opts: CallOptions, onId?: (id: number) => void): Promise<Reply> {
    let id = 0;
    const signal = opts.signal;
    const p = this.link.request(op, fields, blobs, {
      signal,
      timeoutMs: opts.deadlineMs !== undefined ? opts.deadlineMs + DEADLINE_GRACE_MS : undefined,
      onId: (i) => {
        id = i;
        onId?.(i);
      },
    });
    if (!signal) return p.catch(rethrow);
    const onAbort = () => this.cancel(id);
    signal.addEventListener("abort", onAbort, { once: true });
    return p.then(
      (r) => {
        signal.removeEventListener("abort", onAbort);
        return r;
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        return rethrow(e);
      },
    );
  }

  /** Tell the agent to stop request `id` (no reply expected). */
  cancel(id: number): void {
    if (id && !this.link.closed) this.link.send({ k: "cancel", i: id, quiet: true });
  }

  /** Return stream credit to the agent. */
  credit(id: number, items: number, bytes: number): void {
    if (!this.link.closed) this.link.send({ k: "credit", i: id, n: items, s: bytes });
  }

  /** Upload a file or directory tree with block reuse, atomic replace and preserved modes. */
  upload(local: string, remotePath: string, opts?: TransferOptions): Promise<TransferResult> {
    return upload(this, local, remotePath, opts);
  }

  /** Download a remote file or directory tree (the mirror of upload). */
  download(remotePath: string, local: string, opts?: TransferOptions): Promise<TransferResult> {
    return download(this, remotePath, local, opts);
  }

  /** Round trip without running any tool (liveness). */
  async ping(timeoutMs = 10_000): Promise<void> {
    await this.link.request("ping", {}, [], { timeoutMs }).catch(rethrow);
  }

  /**
   * Close: end the remote's stdin, wait for it to exit (closeTimeoutMs), then SIGTERM, then
   * SIGKILL after 1 s. Pending calls fail with RemoteClosedError.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      this.link.shutdown(new RemoteClosedError("remote closed by the caller"));
      try {
        this.child.stdin?.end();
      } catch {
        /* already gone */
      }
      const waitExit = (ms: number) =>
        Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      if (await waitExit(this.closeTimeoutMs)) return;
      this.child.kill("SIGTERM");
      if (await waitExit(1000)) return;
      this.child.kill("SIGKILL");
      await waitExit(5000);
    })();
    return this.closing;
  }
}

function checkRef(ref: MethodRef): void {
  if (!ref || typeof ref !== "object" || !ref.tool || typeof ref.method !== "string") {
    throw new TypeError("remote.call needs a method reference from loadTool(...) (e.g. Tool.method)");
  }
}

/** A call's arguments, keywords and deadline as header text (`,"a":[…]`), or "". */
function callArgs(args: unknown[], opts: CallOptions, blobs: Uint8Array[]): string {
  let more = "";
  if (args.length) more += `,"a":${JSON.stringify(encodeValue(args, blobs))}`;
  if (opts.kwargs && Object.keys(opts.kwargs).length) more += `,"kw":${JSON.stringify(encodeValue(opts.kwargs, blobs))}`;
  if (opts.deadlineMs !== undefined) more += `,"dl":${JSON.stringify(opts.deadlineMs)}`;
  return more;
}

function checkDeadline(ms: number | undefined): void {
  if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) {
    throw new RangeError(`deadlineMs must be a positive finite number, got ${ms}`);
  }
}

function decodeResult(result: unknown, blobs: Buffer[]): any {
  return result === null || typeof result !== "object" ? result : decodeValue(result, blobs);
}

function decodeReply(r: Reply): any {
  return decodeResult(r.result, r.blobs);
}

const NO_BLOBS: Uint8Array[] = [];
const NO_OPTIONS: CallOptions = Object.freeze({});

/** How a plain call's reply becomes its value or its error (shared: no object per call). */
const PLAIN = { decode: decodeResult, mapError };

export function mapError(e: unknown): Error {
  if (e instanceof LinkRemoteError) return new RemoteError({ ...e.details, type: e.type, message: e.message });
  if (e instanceof LinkTimeoutError) {
    return new RemoteError({ type: "DeadlineExceeded", message: `no reply from the remote within the deadline (${e.message})` });
  }
  if (e instanceof LinkClosedError) return new RemoteClosedError(e.message);
  return e as Error;
}

function rethrow(e: unknown): never {
  throw mapError(e);
}
