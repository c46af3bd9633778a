// Re-joining an attach "from byte N" (what the web page does after a dropped connection): the
// structured attach op with from/screen replays exactly the bytes after N, or a fresh screen
// when the log no longer holds them or belongs to another interpreter; garbage is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { setTimeout as sleep } from "node:timers/promises";
import { TestDaemon } from "./helpers/daemon.mjs";

let d;
before(async () => {
  d = new TestDaemon();
  await d.start();
  d.pyshSync("new", "p");
});
after(async () => {
  await d?.cleanup();
});

/** Attach on a fresh structured connection; resolves once the replay has arrived. */
function attach(fields) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${d.sock}:/`, ["pythond.json.1"], { perMessageDeflate: false });
    const got = { ws, attached: null, error: null, screen: Buffer.alloc(0) };
    const check = () => {
      if (got.error || (got.attached && got.screen.length >= got.attached.replay_bytes)) resolve(got);
    };
    ws.on("message", (data, isBinary) => {
      if (isBinary) got.screen = Buffer.concat([got.screen, data.subarray(5)]);
      else {
        const m = JSON.parse(data.toString());
        if (m.event === "attached") got.attached = m;
        else if (m.ok === false) got.error = m.error;
      }
      check();
    });
    ws.once("open", () => ws.send(JSON.stringify({ id: 1, op: "attach", session: "p", ...fields })));
    ws.once("error", reject);
    setTimeout(() => reject(new Error("no attach reply")), 15_000);
  });
}

async function detach(got) {
  got.ws.send(JSON.stringify({ op: "detach" }));
  await new Promise((r) => got.ws.once("message", r));
  got.ws.close();
}

test("attach from the offset it stopped at replays exactly the bytes since, not the whole screen", async () => {
  const first = await attach({ rows: 24, cols: 80 });
  assert.equal(first.attached.resumed, false);
  assert.match(first.attached.screen, /^[0-9a-f]{16}$/);
  assert.equal(first.screen.length, first.attached.replay_bytes);
  assert.match(first.screen.toString(), /Python 3\./);
  await detach(first);

  // While nobody watches, an agent cell writes to the screen log.
  d.pyshSync("run", "p", "print('gap-' + 'bytes')");
  // The agent's PTY reader takes the mirrored output off the terminal a moment later.
  let again;
  for (let i = 0; i < 100; i++) {
    again = await attach({ from: first.attached.offset, screen: first.attached.screen });
    if (again.screen.includes("gap-bytes\r\n")) break;
    await detach(again);
    await sleep(50);
  }
  assert.equal(again.attached.resumed, true);
  assert.equal(again.attached.screen, first.attached.screen);
  assert.equal(again.attached.offset - first.attached.offset, again.attached.replay_bytes, "the replay is the gap, to the byte");
  const gap = again.screen.toString();
  assert.match(gap, /\[agent\] run: print\('gap-' \+ 'bytes'\)/);
  assert.match(gap, /gap-bytes/);
  assert.doesNotMatch(gap, /Python 3\./, "the banner is not sent again");
  await detach(again);
});

test("a screen id of another log, or an offset the log no longer holds, gets a fresh replay", async () => {
  const other = await attach({ from: 0, screen: "0123456789abcdef" });
  assert.equal(other.attached.resumed, false);
  assert.match(other.screen.toString(), /Python 3\./);
  await detach(other);
  const ahead = await attach({ from: other.attached.offset + 1000, screen: other.attached.screen });
  assert.equal(ahead.attached.resumed, false, "an offset past the end is not resumed");
  assert.match(ahead.screen.toString(), /Python 3\./);
  await detach(ahead);
});

test("garbage from/screen is refused with bad_request", async () => {
  for (const fields of [{ from: -1, screen: "ab" }, { from: 1.5, screen: "ab" }, { from: 3 }, { from: "3", screen: "ab" }, { from: 3, screen: "not hex!" }, { screen: "ab" }]) {
    const got = await attach(fields);
    assert.equal(got.error?.code, "bad_request", JSON.stringify(fields));
    got.ws.close();
  }
});
