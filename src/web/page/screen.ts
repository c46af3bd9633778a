// The terminal (xterm.js with its fit addon) and where it is in the session's screen log: the
// byte offset just past the last byte written. A re-attach asks for the bytes after it, so the
// screen resumes without a byte doubled or missing; a fresh replay (another screen log, or one
// that no longer holds the offset) resets the terminal first.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";

export interface Attached {
  offset: number;
  replay_bytes: number;
  screen: string;
  resumed: boolean;
}

export class Screen {
  readonly term: Terminal;
  private readonly fitter = new FitAddon();
  /** The screen log shown, and the offset after the last byte shown. */
  screenId: string | null = null;
  offset = 0;
  private replayLeft = 0;

  constructor(parent: HTMLElement) {
    this.term = new Terminal({
      cursorBlink: true,
      scrollback: 10_000,
      fontFamily: "DejaVu Sans Mono, Menlo, Consolas, monospace",
      fontSize: 14,
      lineHeight: 1.15, // at 1.0 the DOM renderer clips underscores
      theme: { background: "#111418", foreground: "#d8dee9" },
    });
    this.term.loadAddon(this.fitter);
    this.term.open(parent);
    this.fit();
  }

  fit(): void {
    try {
      this.fitter.fit();
    } catch {
      /* not laid out yet */
    }
  }

  /** A new session: nothing to resume from. */
  forget(): void {
    this.screenId = null;
    this.offset = 0;
    this.replayLeft = 0;
    this.term.reset();
  }

  attached(a: Attached): void {
    if (!a.resumed || a.screen !== this.screenId) this.term.reset();
    this.screenId = a.screen;
    this.offset = a.offset;
    this.replayLeft = a.replay_bytes;
  }

  write(bytes: Uint8Array): void {
    const replay = Math.min(bytes.length, this.replayLeft);
    this.replayLeft -= replay;
    this.offset += bytes.length - replay;
    this.term.write(bytes);
  }

  /** Every line of the buffer (scrollback included), for tests and copy. */
  text(): string {
    const b = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n").replace(/\n+$/, "");
  }
}
