// Prints streamed cell output as pythond 0.4 printed a finished one: the trailing newlines of
// the *whole* output dropped and exactly one added, while everything else passes through live.
// Only the newlines at the very end are held back, and only until more output comes: then they
// go out first, to the stream that wrote them, so no byte moves from one stream to the other
// and the two keep the order in which they were written.
import type { Writable } from "node:stream";
import { STDOUT_STREAM, STDERR_STREAM } from "../wire/structured.js";

const NL = 0x0a;

export class CellPrinter {
  private readonly dest: Record<number, Writable>;
  /** Newlines at the current end of the output, not yet printed: [stream, count] in order. */
  private held: [number, number][] = [];
  /** The stream that wrote the last byte other than a newline (0: none yet). */
  private lastText = 0;

  constructor(stdout: Writable = process.stdout, stderr: Writable = process.stderr) {
    this.dest = { [STDOUT_STREAM]: stdout, [STDERR_STREAM]: stderr };
  }

  write(stream: number, data: Buffer): void {
    const s = stream === STDERR_STREAM ? STDERR_STREAM : STDOUT_STREAM;
    let end = data.length;
    while (end > 0 && data[end - 1] === NL) end--;
    if (end > 0) {
      for (const [hs, n] of this.held) this.dest[hs].write(Buffer.alloc(n, NL));
      this.held = [];
      this.dest[s].write(end === data.length ? data : data.subarray(0, end));
      this.lastText = s;
    }
    if (end < data.length) {
      const last = this.held[this.held.length - 1];
      if (last && last[0] === s) last[1] += data.length - end;
      else this.held.push([s, data.length - end]);
    }
  }

  /** The end of the cell's output: one newline after it (if it printed anything). */
  finish(): void {
    if (this.lastText) this.dest[this.lastText].write("\n");
    this.held = [];
    this.lastText = 0;
  }
}
