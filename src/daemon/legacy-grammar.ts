// pythond 0.4's command grammar (compat §3): one text frame is one command, a header line
// (an optional pysh/pyctl prefix, the verb, its words) and an optional body after the first
// newline. The one decoder of 0.4 commands; legacy.ts turns them into ops.

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
