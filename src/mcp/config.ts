// The MCP server's knobs, read once: flags win over environment variables, which win over the
// defaults. Budgets stay under a minute by default so no MCP client times a call out.
export interface McpConfig {
  /** Session used when a tool call names none; created on first use. */
  session: string;
  /** Seconds python_run / python_wait wait before answering "still running". */
  budgetS: number;
  /** Largest budget a call may ask for (timeout_s). */
  maxBudgetS: number;
  /** Bytes of stdout (and of stderr) one result shows before cutting. */
  maxOutput: number;
  /** Largest PNG sent inline as image content; bigger ones are resources only. */
  maxImage: number;
  /** Milliseconds between progress notifications while a cell runs. */
  progressMs: number;
}

function num(env: string | undefined, fallback: number, min: number, name: string): number {
  if (env === undefined || env === "") return fallback;
  const n = Number(env);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min} (got ${JSON.stringify(env)})`);
  return n;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env, session?: string): McpConfig {
  return {
    session: session ?? env.PYTHOND_MCP_SESSION ?? "mcp",
    budgetS: num(env.PYTHOND_MCP_BUDGET, 50, 0, "PYTHOND_MCP_BUDGET"),
    maxBudgetS: 3600,
    maxOutput: num(env.PYTHOND_MCP_MAX_OUTPUT, 32 * 1024, 1024, "PYTHOND_MCP_MAX_OUTPUT"),
    maxImage: num(env.PYTHOND_MCP_MAX_IMAGE, 1024 * 1024, 0, "PYTHOND_MCP_MAX_IMAGE"),
    progressMs: num(env.PYTHOND_MCP_PROGRESS_MS, 1000, 50, "PYTHOND_MCP_PROGRESS_MS"),
  };
}
