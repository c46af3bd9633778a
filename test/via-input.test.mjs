// Bad input around sessions on another host gets a clear error: --via and --idle-ttl on the
// command line, "via"/"idle_ttl" in a structured request, and a garbled or open `<id>.via`
// record in the daemon's agent dir (not re-joined, said once, the daemon starts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdirSync, chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { TestDaemon, startedDaemon } from "./helpers/daemon.mjs";
import { Client } from "../dist/index.js";

test("pysh new --via / --idle-ttl: bad words are usage errors (exit 2)", async (t) => {
  const d = await startedDaemon(t);
  for (const [args, message] of [
    [["--via", "'unbalanced"], /--via: unbalanced ' in the command/],
    [["--via", "ssh host\\"], /--via: a command ends in a lone backslash/],
    [["--via", "   "], /--via wants a command/],
    [["--idle-ttl", "5"], /--idle-ttl applies to a session made --via another host/],
    [["--via", "env", "--idle-ttl", "5x"], /--idle-ttl wants seconds or 30m, 24h, 7d \(got "5x"\)/],
    [["--via", "env", "--idle-ttl", "0"], /--idle-ttl wants seconds/],
  ]) {
    const r = await d.pysh("new", "w", ...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const bad = await d.pysh("new", "w", "--via", "no-such-command-here x");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^ERR failed to create session 'w' via no-such-command-here x: agent failed to start: spawn no-such-command-here ENOENT\n$/);
  assert.equal((await d.pysh("ls")).stdout, "(no sessions)\n");
});

test("structured new: via must be argv, idle_ttl seconds with via", async (t) => {
  const d = await startedDaemon(t);
  const c = await Client.connect({ socket: d.sock, autostart: false });
  t.after(() => c.close());
  for (const [fields, message] of [
    [{ via: "ssh host" }, /"via" must be a command prefix/],
    [{ via: [] }, /"via" must be a command prefix/],
    [{ via: ["ssh", 3] }, /"via" must be a command prefix/],
    [{ via: ["ssh", ""] }, /"via" must be a command prefix/],
    [{ via: Array(65).fill("x") }, /"via" must be a command prefix/],
    [{ idle_ttl: 5 }, /"idle_ttl" applies only with "via"/],
    [{ via: ["env"], idle_ttl: -1 }, /"idle_ttl" must be a number of seconds/],
    [{ via: ["env"], idle_ttl: "1h" }, /"idle_ttl" must be a number of seconds/],
  ]) {
    await assert.rejects(c.request("new", { session: "w", ...fields }), (e) => e.code === "bad_request" && message.test(e.message), JSON.stringify(fields));
  }
});

test("a garbled or open remote-session record is not re-joined; the daemon says so and starts", async (t) => {
  const d = new TestDaemon();
  t.after(() => d.cleanup());
  const dir = `${d.sock}.d`;
  mkdirSync(dir, { mode: 0o700 });
  const secret = "ab".repeat(32);
  const files = {
    "00000001.via": "\u0000garbage{",
    "00000002.via": JSON.stringify({ secret, settings: { via: "ssh host" }, remote: { socket: "/x.sock" } }),
    "00000003.via": JSON.stringify({ secret, settings: { via: ["env"] } }),
    "00000004.via": JSON.stringify({ secret, settings: { via: ["env"] }, remote: { socket: "/nonexistent/x.sock" } }),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
  writeFileSync(join(dir, "00000005.via"), files["00000004.via"], { mode: 0o644 });
  chmodSync(join(dir, "00000005.via"), 0o644);
  await d.start();
  const said = d.daemon.stderrText();
  assert.match(said, /not re-joining the remote session of 00000001\.via: .*is not JSON/);
  assert.match(said, /not re-joining the remote session of 00000002\.via: .*is not a valid key file/);
  assert.match(said, /not re-joining the remote session of 00000003\.via: .*names no remote session/);
  assert.match(said, /not re-joining the remote session of 00000004\.via: agent on env is gone: no agent at \/nonexistent\/x\.sock/);
  assert.match(said, /not re-joining the remote session of 00000005\.via: .*is open to others \(mode 644\)/);
  assert.equal(existsSync(join(dir, "00000004.via")), false, "a record whose agent is gone is removed");
  assert.equal(existsSync(join(dir, "00000001.via")), true, "a record it cannot read is left for a person to look at");
  assert.equal((await d.pysh("ls")).stdout, "(no sessions)\n");
});
