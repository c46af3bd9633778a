// Whether something accepts connections on a Unix socket: used by the daemon (one per socket)
// and by clients deciding whether to start one, so it lives apart from both.
import { connect } from "node:net";

export function probeSocket(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(true); // accepted but silent still means someone holds it
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
