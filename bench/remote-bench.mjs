// Remote benchmarks (issue 11): `run` round trip over TLS on an open connection, and one-shot
// `pysh run` over TLS, each beside the same measure on the local Unix socket in the same run
// (interleaved, so the machine's drift hits both alike).
//   node bench/remote-bench.mjs [--quick]
import { TestDaemon, BIN } from "../test/helpers/daemon.mjs";
import { startListening, stopListening, RemoteClient, tokenOf } from "../test/helpers/remote.mjs";
import { Client } from "../dist/index.js";
import { median, timeCommand } from "./stats.mjs";

const quick = process.argv.includes("--quick");
const ms = (ns) => Number(ns) / 1e6;

const d = new TestDaemon();
let child;
try {
  ({ child } = await startListening(d, ["--listen", "127.0.0.1:0", "--tls"]));
  const port = Number(/wss:\/\/127\.0\.0\.1:(\d+)/.exec(child.stderrText())[1]);
  const token = await tokenOf(d);
  const fp = JSON.parse((await d.pyctl("cert", "--json")).stdout).sha256;
  const rc = new RemoteClient(d, "bench", port, { token });
  const pinned = await rc.pyctl("pin", `127.0.0.1:${port}`, "--expect", fp);
  if (pinned.code !== 0) throw new Error(pinned.stderr);

  const local = await Client.connect({ socket: d.sock, autostart: false });
  await local.request("new", { session: "b", replace: true });
  // The SDK reads PYTHOND_HOST & co. (and HOME for the pins) when it connects.
  Object.assign(process.env, { HOME: rc.env.HOME, PYTHOND_HOST: rc.env.PYTHOND_HOST, PYTHOND_TLS: "1", PYTHOND_TOKEN: token });
  const remote = await Client.connect();
  for (const k of ["PYTHOND_HOST", "PYTHOND_TLS", "PYTHOND_TOKEN"]) delete process.env[k];

  // Round trips on open connections, interleaved in rounds.
  const rounds = quick ? 5 : 20;
  const per = quick ? 100 : 250;
  const rt = { local: [], tls: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, c] of [["local", local], ["tls", remote]]) {
      for (let i = 0; i < per; i++) {
        const t0 = process.hrtime.bigint();
        await c.run("b", "x = 1");
        rt[name].push(ms(process.hrtime.bigint() - t0) * 1000);
      }
    }
  }
  local.close();
  remote.close();

  // One-shot pysh, interleaved with node -e 0.
  const shots = quick ? 10 : 30;
  const cold = { node: [], local: [], tls: [] };
  for (let i = 0; i < shots; i++) {
    cold.node.push(timeCommand([process.execPath, "-e", "0"], d.env));
    cold.local.push(timeCommand([process.execPath, BIN("pysh"), "run", "b", "1"], d.env));
    cold.tls.push(timeCommand([process.execPath, BIN("pysh"), "run", "b", "1"], rc.env));
  }

  const f = (x, n = 1) => x.toFixed(n);
  console.log(`| measure | local (Unix socket) | TLS (127.0.0.1) | difference |`);
  console.log(`|---|---:|---:|---:|`);
  console.log(`| run \`x = 1\` round trip, open connection (median of ${rounds * per}) | ${f(median(rt.local), 0)} µs | ${f(median(rt.tls), 0)} µs | +${f(median(rt.tls) - median(rt.local), 0)} µs |`);
  console.log(`| one-shot \`pysh run b 1\` wall time (median of ${shots}) | ${f(median(cold.local))} ms | ${f(median(cold.tls))} ms | +${f(median(cold.tls) - median(cold.local))} ms |`);
  console.log(`| \`node -e 0\` in the same run (floor) | ${f(median(cold.node))} ms | | |`);
} finally {
  if (child) await stopListening(child);
  await d.cleanup();
}
