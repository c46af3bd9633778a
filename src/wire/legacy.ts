// pythond 0.4's text protocol (subprotocol "pythond.0.4", compat §3-§7): the one module that
// knows its bytes, imported by the daemon's adapter (daemon/legacy.ts, legacy-attach.ts) and by
// our client's fallback for 0.4 daemons (client/legacy-requests.ts). A command is one text
// frame: a header line (an optional pysh/pyctl prefix, the verb, its words) and an optional
// body after the first newline. A reply is one text frame: "OK ...", "ERR ...", plain output or
// Python-style JSON. While attached, the connection carries the terminal: binary frames both
// ways, "detach" and "resize <rows> <cols>" as text.
import { pyJson } from "../util/py-json.js";

// ---- commands ----

export interface LegacyCommand {
  cmd: string;
  args: string[];
  /** Header text after the session name, untouched (whitespace kept). */
  rawAfterName: string;
  body?: string;
}

/** The 0.4 frame grammar (compat §3). Returns null for an empty command (no reply). */
export function parseLegacy(frame: string): LegacyCommand | null {
  let t = frame.replace(/\r\n/g, "\n");
  if (t.endsWith("\n") && t.indexOf("\n") === t.length - 1) t = t.slice(0, -1);
  const nl = t.indexOf("\n");
  const header = nl >= 0 ? t.slice(0, nl) : t;
  const body = nl >= 0 ? t.slice(nl + 1) : undefined;
  const tokens = header.split(/\s+/).filter(Boolean);
  let rest = header.replace(/^\s+/, "");
  if (tokens[0] === "pysh" || tokens[0] === "pyctl") {
    tokens.shift();
    rest = rest.slice(rest.search(/\s|$/)).replace(/^\s+/, "");
  }
  if (!tokens.length) return null;
  const cmd = tokens[0];
  const args = tokens.slice(1);
  if (body !== undefined) args.push(body);
  // rawAfterName: header text after the command and the session name.
  const afterCmd = rest.slice(cmd.length).replace(/^\s+/, "");
  const rawAfterName = tokens.length > 1 ? afterCmd.slice(tokens[1].length).replace(/^\s/, "") : "";
  return { cmd, args, rawAfterName, body };
}

/** The code of run/fire/fork: inline header text kept verbatim; header text before a body is its first line. */
export function codeOf(c: LegacyCommand): string {
  if (c.body === undefined) return c.rawAfterName;
  return c.rawAfterName.trim() ? `${c.rawAfterName}\n${c.body}` : c.body;
}

/**
 * A command frame as a client sends it: the verb and its words on the header line, then the
 * body (code) after a newline. parseLegacy(encodeCommand(v, w, b)) gives back v, w and b.
 */
export function encodeCommand(verb: string, words: string[] = [], body?: string): string {
  const header = [verb, ...words].join(" ");
  return body === undefined ? header : `${header}\n${body}`;
}

// ---- replies ----

const ERR = "ERR ";

/** An error reply. */
export function encodeErr(message: string): string {
  return ERR + message;
}

export function isErr(reply: string): boolean {
  return reply.startsWith(ERR);
}

/** The error a reply carries: "ERR <text>", or a worker's error as JSON {"error": ...} (§4). */
export function parseErr(reply: string): string | undefined {
  if (reply.startsWith(ERR)) return reply.slice(ERR.length);
  if (reply.startsWith('{"error": ')) {
    try {
      const j = JSON.parse(reply);
      if (typeof j.error === "string" && Object.keys(j).length === 1) return j.error;
    } catch {
      /* output that looks like it */
    }
  }
  return undefined;
}

/** A JSON reply (fire, fork, poll, status, vars, complete): Python's json.dumps spacing. */
export function encodeJson(value: unknown): string {
  return pyJson(value);
}

/** Undefined for a reply that is not JSON. */
export function parseJson(reply: string): unknown {
  try {
    return JSON.parse(reply);
  } catch {
    return undefined;
  }
}

const EXEC_FAILED = "ERR execution failed\n";

/** `run`'s reply: the cell's output (stdout and stderr in one buffer), marked when it failed. */
export function encodeRunReply(ok: boolean, output: string): string {
  return ok ? output : EXEC_FAILED + output;
}

/** Undefined for an error reply that is not a failed cell (parse it with parseErr). */
export function parseRunReply(reply: string): { ok: boolean; output: string } | undefined {
  if (reply.startsWith(EXEC_FAILED)) return { ok: false, output: reply.slice(EXEC_FAILED.length) };
  if (parseErr(reply) !== undefined) return undefined;
  return { ok: true, output: reply };
}

/** `new`'s reply. */
export function encodeNewReply(name: string, pid: unknown): string {
  return `OK ${name} pid=${pid}`;
}

export function parseNewReply(reply: string): { name: string; pid: number } | undefined {
  const m = /^OK (\S+) pid=(\d+)/.exec(reply);
  return m ? { name: m[1], pid: Number(m[2]) } : undefined;
}

/** One session in `ls`'s reply. 0.4 daemons also list remote proxies (kind "remote"). */
export interface LegacyLsEntry {
  name: string;
  alive: boolean;
  pid: number | null;
  kind: string;
  /** A remote proxy's host:port. */
  target?: string;
  tls?: boolean;
}

const NO_SESSIONS = "(no sessions)";

/** `ls`'s reply: "  <n>: alive pid=<pid> (pty)" per session ("DEAD" for a dead one). */
export function encodeLsReply(sessions: { name: string; alive: boolean; pid: number | null; remote?: { address: string; tls: boolean } }[]): string {
  if (!sessions.length) return NO_SESSIONS;
  return sessions
    .map((s) => (s.remote ? `  ${s.name}: -> ${s.remote.address}${s.remote.tls ? " tls" : ""} (remote)` : `  ${s.name}: ${s.alive ? "alive" : "DEAD"} pid=${s.pid} (pty)`))
    .join("\n");
}

/** Also reads 0.4's remote lines "  <n>: -> host:port[ tls] (remote)"; lines it cannot read are skipped. */
export function parseLsReply(reply: string): LegacyLsEntry[] {
  if (reply === NO_SESSIONS) return [];
  const out: LegacyLsEntry[] = [];
  for (const line of reply.split("\n")) {
    const m = /^\s*([^:]+): (alive|DEAD)(?: pid=(\d+))? \((\w+)\)/.exec(line);
    if (m) out.push({ name: m[1], alive: m[2] === "alive", pid: m[3] ? Number(m[3]) : null, kind: m[4] });
    const r = /^\s*([^:]+): -> (\S+)( tls)? \(remote\)/.exec(line);
    if (r) out.push({ name: r[1], alive: true, pid: null, kind: "remote", target: r[2], tls: !!r[3] });
  }
  return out;
}

/** What `int` did: threads interrupted (best effort) and fork processes killed. */
export interface LegacyIntCounts {
  threads: number;
  processes: number;
}

const NO_RUNNING_CELLS = "OK no running cells";

/** `int`'s reply. */
export function encodeIntReply(name: string, r: LegacyIntCounts): string {
  if (!r.threads && !r.processes) return `${NO_RUNNING_CELLS} in ${name}`;
  const t = `${r.threads} thread${r.threads === 1 ? "" : "s"}`;
  const p = `${r.processes} process${r.processes === 1 ? "" : "es"}`;
  return `OK int ${name}: ${t} (best-effort), ${p} (killed)`;
}

/** Undefined for a reply that is not int's; "idle" when nothing ran, else what was done. */
export function parseIntReply(reply: string): { outcome: "idle" } | { outcome: "interrupted"; message: string } | undefined {
  if (reply.startsWith(NO_RUNNING_CELLS)) return { outcome: "idle" };
  const m = /^OK int [^:]*: (.*)$/s.exec(reply);
  return m ? { outcome: "interrupted", message: m[1] } : undefined;
}

export const encodeKillReply = (name: string): string => `OK killed ${name}`;
export const STOP_REPLY = "OK stopping daemon";

// ---- attach (compat §7, §14.15) ----

export const ATTACHED_REPLY = "OK attached";
/** Sent before the daemon closes an attach with 1000 DETACHED_REASON. */
export const DETACHED_REPLY = "OK detached";
export const DETACHED_REASON = "detached";

/** `attach`'s words: the session, and optionally the terminal's size. */
export function attachWords(session: string, size?: { rows: number; cols: number }): string[] {
  return size ? [session, String(size.rows), String(size.cols)] : [session];
}

/** Text frames while attached. */
export const DETACH = "detach";

export function encodeResize(rows: number, cols: number): string {
  return `resize ${rows} ${cols}`;
}

/** A text frame while attached: detach (also a blank frame), a resize, or undefined (ignored). */
export function parseAttachText(text: string): { op: "detach" } | { op: "resize"; rows: number; cols: number } | undefined {
  const t = text.trim();
  if (t === DETACH || t === "") return { op: "detach" };
  const m = /^resize\s+(\d+)\s+(\d+)$/.exec(t);
  return m ? { op: "resize", rows: Number(m[1]), cols: Number(m[2]) } : undefined;
}

// ---- the connection ----

/** A refused token (both protocols: it is sent before either is spoken), then close 1008. */
export const AUTH_FAILED_REPLY = "ERR auth failed";
export const AUTH_FAILED_CODE = 1008;
export const AUTH_FAILED_REASON = "auth failed";
