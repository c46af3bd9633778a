"""The one way a cell ends (agent/pythond_agent/finish.py), for each kind of cell: the done
record as the reply to a waiting exec or as an event, a human cell's code in it, the note of
dropped output, and the store told. The session is a stand-in holding what finish_cell uses."""
import agent_path  # noqa: F401  (first: puts agent/ on sys.path)

import unittest

from pythond_agent.cells import STDERR, STDOUT, CellStore
from pythond_agent.finish import finish_cell


class Link:
    def __init__(self):
        self.sent = []

    def send(self, header, blobs=()):
        self.sent.append((header, list(blobs)))


class Session:
    def __init__(self):
        self.link = Link()
        self.replies = {}
        self.cells = CellStore(1 << 20, retain_cells=2)
        self.last_activity = 0

    def send(self, header, blobs=()):
        self.link.send(header, blobs)


class FinishCell(unittest.TestCase):
    def setUp(self):
        self.s = Session()

    def test_a_waited_for_cell_is_the_reply_of_its_exec(self):
        cell = self.s.cells.add("c1", "run", "1")
        self.s.replies["c1"] = (self.s.link, 7)
        finish_cell(self.s, cell, True, "1")
        [(header, blobs)] = self.s.link.sent
        self.assertEqual((header["k"], header["i"], header["r"]["cell_id"], header["r"]["state"]), ("res", 7, "c1", "done"))
        self.assertEqual((cell.ok, cell.value, cell.state), (True, "1", "done"))
        self.assertEqual(self.s.last_activity, cell.ended_at)
        self.assertEqual(self.s.replies, {})

    def test_a_cell_nobody_waits_for_or_whose_waiter_left_is_a_done_event(self):
        gone = Link()
        for cid, waiter in (("c1", None), ("c2", (gone, 3))):
            cell = self.s.cells.add(cid, "fire", "x")
            if waiter:
                self.s.replies[cid] = waiter
            finish_cell(self.s, cell, False, None, {"type": "E", "message": "m", "traceback": "E: m\n"})
        self.assertEqual([(h["k"], h["ev"], h["c"], h["ok"]) for h, _ in self.s.link.sent], [("ev", "done", "c1", False), ("ev", "done", "c2", False)])
        self.assertEqual(gone.sent, [], "a reply is never sent on a link that is no longer the controller")
        self.assertNotIn("code", self.s.link.sent[0][0])

    def test_a_human_cell_carries_its_code(self):
        cell = self.s.cells.add("h1", "run", "x = 1", origin="human")
        finish_cell(self.s, cell, True)
        self.assertEqual(self.s.link.sent[0][0]["code"], "x = 1")

    def test_dropped_output_is_said_as_the_last_stderr(self):
        cell = self.s.cells.add("c1", "run", "print('x' * 10)")
        cell.add_output(STDOUT, b"x" * 10, 4)
        finish_cell(self.s, cell, True)
        note = b"\n[pythond: output truncated, 6 bytes dropped]\n"
        self.assertEqual(self.s.link.sent[0], ({"k": "ev", "ev": "out", "c": "c1", "s": STDERR}, [note]))
        self.assertEqual(cell.chunks[-1], [STDERR, bytearray(note)])
        self.assertEqual(self.s.link.sent[1][0]["ev"], "done", "the done record follows the note")

    def test_a_cancelled_cell_ends_cancelled_and_the_store_evicts(self):
        cells = [self.s.cells.add("c%d" % i, "run", "") for i in range(3)]
        for cell in cells[:2]:
            finish_cell(self.s, cell, True)
        finish_cell(self.s, cells[2], False, None, {"type": "Cancelled", "message": "", "traceback": ""}, state="cancelled")
        self.assertEqual(cells[2].state, "cancelled")
        self.assertEqual(self.s.link.sent[-1][0]["state"], "cancelled")
        self.assertEqual(list(self.s.cells.cells), ["c1", "c2"], "past the cell cap the oldest went")


if __name__ == "__main__":
    unittest.main()
