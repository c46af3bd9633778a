// One stream of a running cell as successive results show it. A line still being written when
// a result is taken ("line" of print('line', 4), before its " 4\n") waits for the next result,
// so no result splits a line; a partial line that has been quiet for a moment (a prompt, a
// progress bar) or grew past a few KB is shown as it is.
import { OutputWindow } from "./output-window.js";

const HOLD_MAX = 4096;
const QUIET_MS = 300;

export class StreamView {
  private window: OutputWindow;
  private held: Buffer = Buffer.alloc(0);
  private heldAt = 0;

  constructor(cap: number) {
    this.window = new OutputWindow(cap);
  }

  add(data: Buffer): void {
    const all = this.held.length ? Buffer.concat([this.held, data]) : data;
    const nl = all.lastIndexOf(0x0a);
    if (nl >= 0) this.window.add(all.subarray(0, nl + 1));
    this.held = all.subarray(nl + 1);
    this.heldAt = Date.now();
    if (this.held.length > HOLD_MAX) this.release();
  }

  private release(): void {
    if (this.held.length) this.window.add(this.held);
    this.held = Buffer.alloc(0);
  }

  /** The text for a result and how many bytes it accounts for; the next result starts after. */
  take(where: string, final: boolean): { text: string; bytes: number } {
    if (final || Date.now() - this.heldAt >= QUIET_MS) this.release();
    const text = this.window.text(where);
    const bytes = this.window.total;
    this.window.reset();
    return { text, bytes };
  }
}
