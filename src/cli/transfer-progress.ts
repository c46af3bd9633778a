// The progress line of pysh put/get: on stderr, only when stderr is a terminal, redrawn at
// most ten times a second and erased at the end (what is left is the one result line).
import type { TransferProgress } from "../tools/transfer.js";

const MIB = 1024 * 1024;

/** A byte count for people: "512 B", "3.0 KiB", "41.2 MiB". */
export function mib(n: number): string {
  if (n < 1024) return `${n} B`;
  return n < MIB ? `${(n / 1024).toFixed(1)} KiB` : `${(n / MIB).toFixed(1)} MiB`;
}

export function progressLine(label: string, stream: NodeJS.WriteStream = process.stderr): { update(p: TransferProgress): void; end(): void } {
  if (!stream.isTTY) return { update() {}, end() {} };
  let last = 0;
  let shown = false;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 100 && p.bytes < p.bytesTotal) return;
      last = now;
      shown = true;
      const pct = p.bytesTotal ? Math.floor((100 * p.bytes) / p.bytesTotal) : 100;
      stream.write(`\r\x1b[K${label}: ${p.files}/${p.filesTotal} files, ${mib(p.bytes)} of ${mib(p.bytesTotal)} (${pct}%)`);
    },
    end() {
      if (shown) stream.write("\r\x1b[K");
    },
  };
}
