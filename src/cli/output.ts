// Prints streamed cell output as pythond 0.4 printed a finished one: trailing newlines
// dropped and exactly one added, per stream, while everything else passes through live.
import type { Writable } from "node:stream";

const NL = 0x0a;

class NewlineHolder {
  private held = 0;
  private wrote = false;
  constructor(private readonly dest: Writable) {}

  write(data: Buffer): void {
    let end = data.length;
    while (end > 0 && data[end - 1] === NL) end--;
    if (end === 0) {
      this.held += data.length;
      return;
    }
    if (this.held) this.dest.write(Buffer.alloc(this.held, NL));
    this.dest.write(end === data.length ? data : data.subarray(0, end));
    this.held = data.length - end;
    this.wrote = true;
  }

  finish(): void {
    if (this.wrote) this.dest.write("\n");
  }
}

export class CellPrinter {
  private readonly streams: Record<number, NewlineHolder>;
  constructor(stdout: Writable = process.stdout, stderr: Writable = process.stderr) {
    this.streams = { 1: new NewlineHolder(stdout), 2: new NewlineHolder(stderr) };
  }
  write(stream: number, data: Buffer): void {
    (this.streams[stream] ?? this.streams[1]).write(data);
  }
  finish(): void {
    this.streams[1].finish();
    this.streams[2].finish();
  }
}
