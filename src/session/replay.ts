// Replaying history.py (pysh restart --replay): the file is split back into the cells it
// recorded, so each replays as its own cell, a failure names the cell it stopped at, and a
// cell that only makes sense at a terminal (it reads the keyboard or drives the screen) is
// skipped with its reason instead of blocking or failing the replay.

/** A recorded cell: "\n# [YYYY-MM-DD HH:MM:SS]\n<code>\n" (see checkpoint.ts). */
const ENTRY = /^# \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]$/m;

export interface HistoryCell {
  /** 1-based position in history.py. */
  index: number;
  code: string;
  /** Why the cell is not replayed, if it is not. */
  skip?: string;
}

/** Calls that need a person at a terminal; a replay has none. */
const TERMINAL_ONLY: [RegExp, string][] = [
  [/\binput\s*\(/, "input() reads the keyboard"],
  [/\bgetpass\b/, "getpass reads the keyboard"],
  [/\bbreakpoint\s*\(|\bpdb\.set_trace\s*\(/, "a debugger needs a terminal"],
  [/\bhelp\s*\(\s*\)/, "interactive help() needs a terminal"],
  [/\bos\.get_terminal_size\s*\(|\bshutil\.get_terminal_size\s*\(/, "the terminal's size is not a replay's"],
  [/\bos\.system\s*\(\s*["'](clear|cls|reset)["']\s*\)/, "clears a screen"],
];

export function terminalOnly(code: string): string | undefined {
  for (const [re, why] of TERMINAL_ONLY) if (re.test(code)) return why;
  return undefined;
}

export function historyCells(text: string): HistoryCell[] {
  const cells: HistoryCell[] = [];
  const lines = text.split("\n");
  let current: string[] | null = null;
  const flush = () => {
    if (current === null) return;
    // The recorder wrote "\n<stamp>\n<code>\n": drop the one newline it added.
    const code = current.join("\n").replace(/\n$/, "");
    if (code.trim()) cells.push({ index: cells.length + 1, code, skip: terminalOnly(code) });
  };
  for (const line of lines) {
    if (ENTRY.test(line)) {
      flush();
      current = [];
    } else if (current !== null) current.push(line);
    else if (line.trim()) current = [line]; // text before the first stamp: one cell of its own
  }
  flush();
  return cells;
}

/** The first line of a cell, short enough for one line of a report. */
export function firstLine(code: string, max = 60): string {
  const line = code.split("\n").find((l) => l.trim()) ?? "";
  return line.length > max ? line.slice(0, max - 1) + "…" : line;
}
