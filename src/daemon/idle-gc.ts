// After a large message (a 60 MB cell's code, a 60 MB poll reply or stream) the daemon's heap
// keeps the pages its copies took until V8 next collects, which an idle daemon may not do for
// hours: RSS stayed ~300 MB above idle after one 60 MB cell (docs/PERFORMANCE.md). So the
// daemon counts the bytes it moves, and once LARGE_BYTES have gone through since the last
// collection and it has then been quiet for QUIET_MS, it collects once: RSS returns near idle.
// Small traffic never triggers it, so the common round trip pays one addition.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const LARGE_BYTES = 16 * 1024 * 1024;
const QUIET_MS = 1000;
const AGAIN_MS = 5000;

let moved = 0;
let armed = false;
let timer: NodeJS.Timeout | undefined;
let gc: (() => void) | null | undefined;

function collector(): (() => void) | null {
  if (gc === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    } catch {
      gc = null; // not available: memory then returns at V8's own pace
    }
  }
  return gc;
}

/** Count bytes the daemon received or sent; schedules a collection after large traffic. */
export function noteBytes(n: number): void {
  moved += n;
  if (moved >= LARGE_BYTES) {
    moved = 0;
    armed = true;
  }
  if (armed) collectWhenQuiet(QUIET_MS, true); // pushed back by every message until quiet
}

/** Collect once quiet for ms; the first time, once more a while later, for what the reply's
 * last moments (a client still reading, a checkpoint being written) still held the first time. */
function collectWhenQuiet(ms: number, again: boolean): void {
  clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    armed = false;
    collector()?.();
    if (again) collectWhenQuiet(AGAIN_MS, false);
  }, ms);
  timer.unref();
}
