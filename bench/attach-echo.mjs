// Keystroke echo latency through the daemon: a structured-protocol attach client sends one
// character as a binary frame and waits for its echo on the screen stream (client -> daemon
// -> agent line editor -> PTY -> agent screen reader -> daemon -> client).
// Floor measured in the same run: a `vars` request over the same kind of connection
// (client -> daemon -> agent reader thread -> daemon -> client, no PTY).
// Usage: node bench/attach-echo.mjs [keystrokes=300]
import WebSocket from "ws";
import { TestDaemon } from "../test/helpers/daemon.mjs";

const N = Number(process.argv[2] ?? 300);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

const d = new TestDaemon();
await d.start();
try {
  d.pyshSync("new", "bench");
  const ws = new WebSocket(`ws+unix://${d.sock}:/`, ["pythond.json.1"], { perMessageDeflate: false });
  await new Promise((r, j) => (ws.once("open", r), ws.once("error", j)));
  let waiter = null;
  ws.on("message", (data, isBinary) => {
    if (waiter) waiter(Buffer.from(data), isBinary);
  });
  const next = (pred) => new Promise((resolve) => (waiter = (b, isBin) => pred(b, isBin) && ((waiter = null), resolve())));
  const attached = next((b, isBin) => !isBin && JSON.parse(b).event === "attached");
  ws.send(JSON.stringify({ id: 1, op: "attach", session: "bench", rows: 24, cols: 200 }));
  await attached;
  await new Promise((r) => setTimeout(r, 300));
  const echo = [];
  for (let i = 0; i < N; i++) {
    const ch = "abcdefghijklmnopqrstuvwxyz"[i % 26];
    const got = next((b, isBin) => isBin && b.subarray(5).includes(ch));
    const t0 = process.hrtime.bigint();
    ws.send(Buffer.from(ch));
    await got;
    echo.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (i % 150 === 149) ws.send(Buffer.from("\x15")); // Ctrl-U: keep the line short
    if (i % 150 === 149) await new Promise((r) => setTimeout(r, 20));
  }
  ws.send(JSON.stringify({ op: "detach" }));
  await new Promise((r) => setTimeout(r, 100));
  const floor = [];
  for (let i = 0; i < N; i++) {
    const id = 100 + i;
    const got = next((b, isBin) => !isBin && JSON.parse(b).id === id);
    const t0 = process.hrtime.bigint();
    ws.send(JSON.stringify({ id, op: "vars", session: "bench" }));
    await got;
    floor.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ws.close();
  const f = (x) => x.toFixed(3);
  console.log(`keystroke echo (n=${N}): median ${f(median(echo))} ms, p90 ${f(p90(echo))} ms`);
  console.log(`floor: vars request round trip (n=${N}): median ${f(median(floor))} ms, p90 ${f(p90(floor))} ms`);
} finally {
  await d.cleanup();
}
