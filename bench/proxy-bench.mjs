// Proxy benchmarks (issue 12): `run` round trip and a 50 MiB print through a proxy (client ->
// local daemon -> TLS -> remote daemon), beside the same on a direct TLS connection to the
// remote daemon, in one run (interleaved, so the machine's drift hits both alike). Two real
// daemons on 127.0.0.1, each with its own HOME.
//   node bench/proxy-bench.mjs [--quick]
import { TestDaemon } from "../test/helpers/daemon.mjs";
import { listeningRemote, connectTo } from "../test/helpers/proxy-env.mjs";
import { Client } from "../dist/index.js";
import { median } from "./stats.mjs";

const quick = process.argv.includes("--quick");
const ms = (ns) => Number(ns) / 1e6;
const MIB = 1024 * 1024;
const PRINT = 50 * MIB;

const R = new TestDaemon();
const L = new TestDaemon();
try {
  const remote = await listeningRemote(R);
  await L.start();
  const addr = `127.0.0.1:${remote.port}`;
  const c = await connectTo(L, "b", addr, remote);
  if (c.code !== 0) throw new Error(c.stderr);
  if ((await L.pysh("new", "b")).code !== 0) throw new Error("new failed");

  const proxied = await Client.connect({ socket: L.sock, autostart: false });
  // The SDK reads PYTHOND_HOST & co. (and HOME for the pins) when it connects: L's HOME holds the pin.
  Object.assign(process.env, { HOME: L.home, PYTHOND_HOST: addr, PYTHOND_TLS: "1", PYTHOND_TOKEN: remote.token });
  const direct = await Client.connect();
  for (const k of ["PYTHOND_HOST", "PYTHOND_TLS", "PYTHOND_TOKEN"]) delete process.env[k];
  const ways = [
    ["direct", direct],
    ["proxied", proxied],
  ];

  const rounds = quick ? 5 : 20;
  const per = quick ? 50 : 200;
  const rt = { direct: [], proxied: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [name, client] of ways) {
      for (let i = 0; i < per; i++) {
        const t0 = process.hrtime.bigint();
        await client.run("b", "x = 1");
        rt[name].push(ms(process.hrtime.bigint() - t0) * 1000);
      }
    }
  }

  const prints = quick ? 2 : 5;
  const big = { direct: [], proxied: [] };
  const code = `import sys\n_ = sys.stdout.write(('y' * 1023 + '\\n') * ${PRINT / 1024})`;
  for (let r = 0; r < prints; r++) {
    for (const [name, client] of ways) {
      let bytes = 0;
      const t0 = process.hrtime.bigint();
      const res = await client.run("b", code, { output: (_s, d) => (bytes += d.length) });
      const t = ms(process.hrtime.bigint() - t0);
      if (!res.ok || bytes !== PRINT) throw new Error(`${name}: ${bytes} bytes of ${PRINT} (${JSON.stringify(res.error)})`);
      big[name].push(t);
    }
  }
  direct.close();
  proxied.close();

  const f = (x, n = 1) => x.toFixed(n);
  const mbps = (t) => f(PRINT / MIB / (t / 1000), 0);
  console.log(`| measure | direct TLS | through the proxy | difference |`);
  console.log(`|---|---:|---:|---:|`);
  console.log(`| run \`x = 1\` round trip, open connection (median of ${rounds * per}) | ${f(median(rt.direct), 0)} µs | ${f(median(rt.proxied), 0)} µs | +${f(median(rt.proxied) - median(rt.direct), 0)} µs |`);
  console.log(`| 50 MiB print, all bytes received (median of ${prints}) | ${f(median(big.direct), 0)} ms (${mbps(median(big.direct))} MiB/s) | ${f(median(big.proxied), 0)} ms (${mbps(median(big.proxied))} MiB/s) | +${f(median(big.proxied) - median(big.direct), 0)} ms |`);
} finally {
  await L.cleanup();
  await R.cleanup();
}
