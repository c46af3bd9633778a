// What several benches compute alike: the median of a sample, the wall time of a command,
// which checkouts to compare, and an isolated daemon of a checkout with an SDK client on it.
import { spawnSync } from "node:child_process";
import { join, resolve as resolvePath } from "node:path";
import { TestDaemon } from "../test/helpers/daemon.mjs";

/** The median, the mean of the two middle values for an even count. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Wall milliseconds of one run of argv, which must exit 0. */
export function timeCommand(argv, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  return t;
}

/** The value after option `name` in argv (`what` it must be, for the error); undefined without the option. */
export function optionValue(argv, name, what = "a value") {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  if (!argv[i + 1]) throw new Error(`${name} needs ${what}`);
  return argv[i + 1];
}

/** The checkouts a bench compares: this one, and `--against DIR` (a built checkout) if given. */
export function checkoutsToCompare(argv, root) {
  const roots = { "this checkout": root };
  const against = optionValue(argv, "--against", "a directory (a built checkout)");
  if (against !== undefined) roots[`--against ${against}`] = resolvePath(against);
  return roots;
}

/** An isolated daemon of the checkout at root (its own HOME and socket; `env` added to its
 * environment), an SDK client of that checkout on it, and a session "s". */
export async function daemonWithSession(root, env = {}) {
  const d = new TestDaemon(env);
  await d.start({ root });
  const { Client } = await import(join(root, "dist", "index.js"));
  const c = await Client.connect({ socket: d.sock, autostart: false });
  await c.request("new", { session: "s" });
  return { d, c };
}
