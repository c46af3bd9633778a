// Budget-aware output: what one tool result shows of a stream. Up to the cap it keeps every
// byte; past it, the head and the tail (half the cap each) and a count of what fell between,
// so a 10 MB print costs the agent a few tens of KB and still shows how it began and ended.
// The whole output stays in the session (resource pythond://sessions/<s>/cells/<id>).
export class OutputWindow {
  private head: Buffer[] = [];
  private headSize = 0;
  private tail: Buffer[] = [];
  private tailSize = 0;
  total = 0;

  constructor(private readonly cap: number) {}

  add(data: Buffer): void {
    this.total += data.length;
    if (this.tailSize === 0) {
      this.head.push(data);
      this.headSize += data.length;
      if (this.headSize <= this.cap) return;
      this.spill(); // just went over the cap: the head keeps half of it, the rest is tail
    } else {
      this.tail.push(data);
      this.tailSize += data.length;
    }
    const keep = this.cap - Math.floor(this.cap / 2);
    while (this.tail.length > 1 && this.tailSize - this.tail[0].length >= keep) this.tailSize -= this.tail.shift()!.length;
  }

  /** Going over the cap: the head keeps its first half-cap bytes, the rest starts the tail. */
  private spill(): void {
    const all = Buffer.concat(this.head);
    const half = Math.floor(this.cap / 2);
    this.head = [all.subarray(0, half)];
    this.headSize = Math.min(half, all.length);
    const rest = all.subarray(half);
    this.tail = rest.length ? [rest] : [];
    this.tailSize = rest.length;
  }

  get empty(): boolean {
    return this.total === 0;
  }

  /** The text shown: everything, or head + marker + tail. `where` names the whole output. */
  text(where: string): string {
    if (this.tailSize === 0) return Buffer.concat(this.head).toString("utf8");
    let tail = Buffer.concat(this.tail);
    const keep = this.cap - Math.floor(this.cap / 2);
    if (tail.length > keep) tail = tail.subarray(tail.length - keep);
    const cut = this.total - this.headSize - tail.length;
    const head = utf8Prefix(Buffer.concat(this.head));
    const shownTail = utf8Suffix(tail);
    return `${head}\n[pythond: ${cut} bytes cut here (${this.total} in all); the whole output: ${where}]\n${shownTail}`;
  }

  /** Start a new window (after a result showed this one). */
  reset(): void {
    this.head = [];
    this.tail = [];
    this.headSize = this.tailSize = this.total = 0;
  }
}

/** Drop a UTF-8 sequence the cut split at the end. */
function utf8Prefix(b: Buffer): string {
  let end = b.length;
  for (let i = 1; i <= 3 && end - i >= 0; i++) {
    const c = b[end - i];
    if ((c & 0xc0) === 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      if (i < need) end -= i;
      break;
    }
    if ((c & 0x80) === 0) break;
  }
  return b.subarray(0, end).toString("utf8");
}

/** Skip continuation bytes the cut left at the start. */
function utf8Suffix(b: Buffer): string {
  let i = 0;
  while (i < 3 && i < b.length && (b[i] & 0xc0) === 0x80) i++;
  return b.subarray(i).toString("utf8");
}
