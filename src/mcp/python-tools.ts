// The python_* tools: sessions of the daemon behind MCP. Names and arguments are the public
// contract (docs/MCP.md); each tool documents its arguments in its JSON schema.
import type { Client } from "../client/client.js";
import { DaemonRequestError } from "../client/errors.js";
import type { McpConfig } from "./config.js";
import { Cells, isNoSession } from "./cells.js";
import { cellResult, text, type ToolResult } from "./shape.js";
import { reportProgress, type Extra } from "./progress.js";
import type { Schema } from "./args.js";
import { daemon, remoteDaemon } from "./connection.js";

export interface McpTool {
  name: string;
  description: string;
  inputSchema: Schema;
  call(args: Record<string, any>, extra: Extra): Promise<ToolResult>;
}

const NAME_PATTERN = "^[a-z0-9_-]{1,80}$";
const SESSION = { type: "string", pattern: NAME_PATTERN, description: 'Session name (lowercase letters, digits, "_", "-"). Default: the server\'s session, "mcp" unless configured; created on first use.' };
const TIMEOUT = { type: "number", minimum: 0, description: "Seconds to wait before answering that the cell is still running (it keeps running). Default: under a minute (PYTHOND_MCP_BUDGET)." };

const json = (v: unknown) => JSON.stringify(v, null, 1);

export function pythonTools(cfg: McpConfig): McpTool[] {
  const cells = new Cells(cfg.maxOutput, daemon);
  const budgetMs = (t: unknown) => Math.min(typeof t === "number" ? t : cfg.budgetS, cfg.maxBudgetS) * 1000;

  /** Run fn; the default session is created when it does not exist yet. */
  async function inSession<T>(name: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = await daemon();
    try {
      return await fn(c);
    } catch (e) {
      if (!isNoSession(e) || name !== cfg.session) throw e;
      await c.request("new", { session: name }).catch((e2) => {
        if (!(e2 instanceof DaemonRequestError && e2.code === "exists")) throw e2;
      });
      return fn(c);
    }
  }

  /** MCP cancellation of python_run: interrupt the cell if it runs, drop it if still queued. */
  async function stopCell(session: string, cell: string): Promise<void> {
    const c = await daemon();
    for (let tries = 0; tries < 20; tries++) {
      const st = await c.request("status", { session }).catch(() => null);
      if (!st) return;
      if (st.running?.includes(cell)) return void (await c.request("int", { session, wait: false }).catch(() => {}));
      if (st.queued?.includes(cell)) return void (await c.request("cancel", { session, cell }).catch(() => {}));
      const p = await c.request("poll", { session, cell }).catch(() => null);
      if (p?.state === "done") return;
      await new Promise((r) => setTimeout(r, 100)); // not in the agent yet: look again
    }
  }

  return [
    {
      name: "python_run",
      description:
        "Run Python code in a persistent session (variables, imports and open files stay between calls). Returns stdout, stderr, " +
        "the value of the last expression, the error (type, message, traceback of your code's frames) and images (matplotlib figures, PIL images). " +
        "If the cell is not done within timeout_s it keeps running and the result says so with its cell id: continue with python_wait. " +
        "Long output is cut with a marker; the whole output is the resource pythond://sessions/<session>/cells/<cell>.",
      inputSchema: {
        type: "object",
        properties: { code: { type: "string", description: "Python source: statements; the last expression's value is returned." }, session: SESSION, timeout_s: TIMEOUT },
        required: ["code"],
        additionalProperties: false,
      },
      async call(a, extra) {
        const session: string = a.session ?? cfg.session;
        if (!a.code.trim()) return text("python_run: code is empty", true);
        let cell: string | null = null;
        const stop = reportProgress(extra, cfg.progressMs, () => cells.lastLine(session, cell));
        const onAbort = () => void (cell && stopCell(session, cell));
        extra.signal.addEventListener("abort", onAbort, { once: true });
        try {
          const view = await inSession(session, () => cells.run(session, a.code, { budgetMs: budgetMs(a.timeout_s), signal: extra.signal }, (id) => (cell = id)));
          return cellResult(view, cfg.maxImage, cfg.maxOutput, await remoteDaemon());
        } finally {
          stop();
          extra.signal.removeEventListener("abort", onAbort);
        }
      },
    },
    {
      name: "python_wait",
      description:
        "Wait for a running cell (the session's latest by default) up to timeout_s. Returns the output produced since the previous result for that cell, " +
        "then, once it is done, its value, error and images (same shape as python_run). Cancelling this call stops the wait, not the cell.",
      inputSchema: {
        type: "object",
        properties: { session: SESSION, cell: { type: "string", pattern: "^[0-9a-f]{12}$", description: "Cell id from python_run (12 hex digits). Default: the latest cell." }, timeout_s: TIMEOUT },
        additionalProperties: false,
      },
      async call(a, extra) {
        const session: string = a.session ?? cfg.session;
        const stop = reportProgress(extra, cfg.progressMs, () => cells.lastLine(session, a.cell ?? null));
        try {
          return cellResult(await cells.wait(session, a.cell, { budgetMs: budgetMs(a.timeout_s), signal: extra.signal }), cfg.maxImage, cfg.maxOutput, await remoteDaemon());
        } finally {
          stop();
        }
      },
    },
    {
      name: "python_interrupt",
      description:
        "Raise KeyboardInterrupt in the session's running cell (even inside time.sleep or a socket read). If the cell ignores it for the grace " +
        "period the session's process is killed and its namespace lost (python_restart then). The session and its variables survive a normal interrupt.",
      inputSchema: {
        type: "object",
        properties: { session: SESSION, grace_s: { type: "number", minimum: 0, description: "Seconds to wait for the cell to stop before killing the process (default 5)." } },
        additionalProperties: false,
      },
      async call(a) {
        const session: string = a.session ?? cfg.session;
        const c = await daemon();
        const r = await c.request("int", { session, wait: true, ...(a.grace_s !== undefined ? { grace: a.grace_s } : {}) });
        const head = r.outcome === "idle" ? `no cell was running in ${session}` : `${r.outcome}: ${r.message}`;
        return text(`${head}\n${json(r)}`, r.outcome === "escalated");
      },
    },
    {
      name: "python_sessions",
      description: "List the daemon's sessions: state, Python version and interpreter, cwd, running and queued cells, memory (RSS bytes).",
      inputSchema: { type: "object", properties: {}, additionalProperties: false },
      async call() {
        const c = await daemon();
        const r = await c.request("ls");
        const rows = (r.sessions as any[]).map((s) => ({
          name: s.name, state: s.state, python: s.python, executable: s.executable, cwd: s.cwd, pid: s.pid,
          busy: s.busy ?? false, running: s.running ?? [], queued: s.queued ?? [], memory: s.memory ?? null,
          ...(s.reason ? { reason: s.reason } : {}),
        }));
        return text(rows.length ? json(rows) : "[no sessions]");
      },
    },
    {
      name: "python_new",
      description: "Create a session: a fresh Python process with its own namespace. Fails if it exists unless replace is true.",
      inputSchema: {
        type: "object",
        properties: {
          session: { type: "string", pattern: NAME_PATTERN, description: 'Session name (lowercase letters, digits, "_", "-"; up to 80).' },
          python: { type: "string", description: "Interpreter to run (path or name on PATH). Default: python3." },
          cwd: { type: "string", description: "Working directory of the session." },
          env: { type: "object", additionalProperties: { type: "string" }, description: "Extra environment variables {NAME: value}." },
          replace: { type: "boolean", description: "End an existing session of that name first." },
        },
        required: ["session"],
        additionalProperties: false,
      },
      async call(a) {
        const c = await daemon();
        const r = await c.request("new", { session: a.session, python: a.python, cwd: a.cwd, env: a.env, replace: a.replace === true });
        return text(`created ${r.name}\n${json(r)}`);
      },
    },
    {
      name: "python_restart",
      description: "Restart a session with a fresh interpreter and the same settings. replay: re-run its history (the successful cells) to rebuild the namespace.",
      inputSchema: {
        type: "object",
        properties: { session: { type: "string", pattern: NAME_PATTERN, description: "Session name." }, replay: { type: "boolean", description: "Re-run history.py after the restart." } },
        required: ["session"],
        additionalProperties: false,
      },
      async call(a) {
        const c = await daemon();
        const r = await c.request("restart", { session: a.session, replay: a.replay === true });
        return text(`restarted ${a.session}\n${json(r)}`, r.replayed === true && r.ok === false);
      },
    },
    {
      name: "python_kill",
      description: "End a session: its process and namespace are gone.",
      inputSchema: { type: "object", properties: { session: { type: "string", pattern: NAME_PATTERN, description: "Session name." } }, required: ["session"], additionalProperties: false },
      async call(a) {
        const c = await daemon();
        await c.request("kill", { session: a.session });
        return text(`killed ${a.session}`);
      },
    },
    {
      name: "python_vars",
      description: "Names in the session's namespace with short representations (type and size for objects that are not plain data). Answered at once, even while a cell runs.",
      inputSchema: { type: "object", properties: { session: SESSION }, additionalProperties: false },
      async call(a) {
        const session: string = a.session ?? cfg.session;
        const r = await inSession(session, (c) => c.request("vars", { session, reprs: true }));
        const names: string[] = r.vars ?? [];
        if (!names.length) return text(`[no variables in ${session}]`);
        const reprs: Record<string, string> = r.reprs ?? {};
        // Modules (the session's preloads among them) go on one line: the variables are the news.
        const isModule = (n: string) => /^<module /.test(reprs[n] ?? "");
        const lines = names.filter((n) => !isModule(n)).map((n) => (reprs[n] !== undefined ? `${n} = ${reprs[n]}` : n));
        const modules = names.filter(isModule);
        if (modules.length) lines.push(`modules: ${modules.join(", ")}`);
        return text(lines.join("\n"));
      },
    },
  ];
}
