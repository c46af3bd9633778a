// What the per-cell check for child processes (issue 9, item 3) costs on the `run x = 1` round
// trip: one session, rounds with the check switched off and on in ABBA order, so load on a
// shared machine falls on both alike.
//   node bench/child-check.mjs [--quick]
import { TestDaemon } from "../test/helpers/daemon.mjs";
import { Client } from "../dist/index.js";
import { median } from "./stats.mjs";

const quick = process.argv.includes("--quick");
const d = new TestDaemon();
await d.start();
try {
  const client = await Client.connect({ socket: d.sock, autostart: false });
  await client.request("new", { session: "b" });
  // The session's Capture, found from a cell; "off" shadows its method with a no-op.
  await client.run("b", "import gc\nfrom pythond_agent.session import Session\n_c = [o for o in gc.get_objects() if isinstance(o, Session)][0].capture\ndel gc, Session");
  const times = { off: [], on: [] };
  for (let i = 0; i < 300; i++) await client.run("b", "x = 1");
  for (let round = 0; round < (quick ? 10 : 60); round++) {
    for (const mode of round % 2 ? ["on", "off"] : ["off", "on"]) {
      await client.run("b", mode === "off" ? "_c.separate_children = lambda: None" : "_c.__dict__.pop('separate_children', None)");
      for (let i = 0; i < 100; i++) {
        const t0 = process.hrtime.bigint();
        await client.run("b", "x = 1");
        times[mode].push(Number(process.hrtime.bigint() - t0) / 1e3);
      }
    }
  }
  const off = median(times.off), on = median(times.on);
  console.log(`run \`x = 1\` round trip, median of ${times.on.length} each`);
  console.log(`  child check off: ${off.toFixed(1)} µs`);
  console.log(`  child check on:  ${on.toFixed(1)} µs   (+${(on - off).toFixed(1)} µs)`);
  client.close?.();
} finally {
  await d.cleanup();
}
