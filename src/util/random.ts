// Random bytes without node:crypto, which costs ~5 ms to load on the pysh cold path: read from
// /dev/urandom (the kernel's CSPRNG, as node:crypto uses) into a pool, a few KiB at a time.
import { openSync, readSync, closeSync } from "node:fs";

const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;

export function randomFill(buf: Buffer, offset = 0, size = buf.length - offset): Buffer {
  if (poolAt + size > pool.length) {
    pool = Buffer.allocUnsafe(Math.max(POOL_SIZE, size));
    const fd = openSync("/dev/urandom", "r");
    try {
      for (let got = 0; got < pool.length; ) got += readSync(fd, pool, got, pool.length - got, null);
    } finally {
      closeSync(fd);
    }
    poolAt = 0;
  }
  pool.copy(buf, offset, poolAt, poolAt + size);
  poolAt += size;
  return buf;
}

/** n random bytes as lowercase hex (ids). */
export function randomHex(n: number): string {
  return randomFill(Buffer.allocUnsafe(n)).toString("hex");
}
