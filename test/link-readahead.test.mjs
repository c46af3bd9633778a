// The agent side of the link (agent/pythond_agent/link.py) over a real socketpair, issue 9
// item 19: a reader working through a burst takes in everything that has arrived, so a caller
// whose loop makes thousands of calls in one turn (Node can write only while the socket has
// room) never finds the socket full; frames come out whole and in order, large ones included.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { PYTHON, root } from "./helpers/tools-env.mjs";

const run = (script) =>
  JSON.parse(execFileSync(PYTHON, ["-c", script], { env: { ...process.env, PYTHONPATH: join(root, "agent") }, encoding: "utf8", timeout: 60_000 }));

test("one read_batch of a burst takes in all that has arrived (it took 128 KiB and left the rest in the socket)", () => {
  const got = run(`
import json, select, socket
from pythond_agent.link import Link, encode
a, b = socket.socketpair()
frames = b"".join(encode({"k": "req", "i": i, "op": "call", "h": 1})[0] for i in range(4000))
a.sendall(frames)  # ~160 KB: fits in the socket at once
link = Link(b.fileno(), b.fileno())
first = link.read_batch(128)
left_in_socket = bool(select.select([b], [], [], 0)[0])
ids = [h["i"] for h, _ in first]
while len(ids) < 4000:
    ids += [h["i"] for h, _ in link.read_batch(128)]
print(json.dumps({"bytes": len(frames), "first": len(first), "left_in_socket": left_in_socket, "in_order": ids == list(range(4000))}))
`);
  assert.ok(got.bytes > 150_000, `the burst is ${got.bytes} bytes`);
  assert.equal(got.first, 128);
  assert.equal(got.left_in_socket, false, "bytes of the burst were left in the socket after the first read_batch");
  assert.equal(got.in_order, true);
});

test("frames taken in ahead and a large frame among them come out whole and in order", () => {
  const got = run(`
import json, os, socket, threading
from pythond_agent.link import Link, encode
a, b = socket.socketpair()
big = os.urandom(3 << 20)
mid = os.urandom(200 << 10)
msgs = [({"k": "ev", "n": i}, []) for i in range(3000)]
msgs += [({"k": "ev", "n": 3000}, [big])] + [({"k": "ev", "n": 3001 + i}, []) for i in range(3000)]
msgs += [({"k": "ev", "n": 6001}, [mid]), ({"k": "ev", "n": 6002}, [])]
def write():
    for h, blobs in msgs:
        for part in encode(dict(h), blobs):
            a.sendall(part)
    a.shutdown(socket.SHUT_WR)
threading.Thread(target=write).start()
link = Link(b.fileno(), b.fileno())
seen, ok = [], True
while True:
    batch = link.read_batch(128)
    if not batch:
        break
    for h, blobs in batch:
        seen.append(h["n"])
        if h["n"] == 3000: ok = ok and bytes(blobs[0]) == big
        if h["n"] == 6001: ok = ok and bytes(blobs[0]) == mid
print(json.dumps({"in_order": seen == list(range(6003)), "attachments": ok, "count": len(seen)}))
`);
  assert.equal(got.count, 6003);
  assert.equal(got.in_order, true);
  assert.equal(got.attachments, true);
});
