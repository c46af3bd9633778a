"""The cell store (agent/pythond_agent/cells.py): output kept under a cap with a count of what
was dropped, and the oldest finished cells evicted past the byte and cell caps."""
import agent_path  # noqa: F401  (first: puts agent/ on sys.path)

import unittest

from pythond_agent.cells import STDERR, STDOUT, CellStore


def finish(store, cell):
    cell.state = "done"
    store.finished(cell)


class CellOutput(unittest.TestCase):
    def test_adjacent_writes_of_one_stream_merge_and_streams_keep_their_order(self):
        cell = CellStore(1 << 20).add("c1", "run", "print(1)")
        for stream, data in [(STDOUT, b"a"), (STDOUT, b"b"), (STDERR, b"!"), (STDOUT, b"c")]:
            self.assertEqual(cell.add_output(stream, data, 100), data)
        self.assertEqual(cell.chunks, [[STDOUT, bytearray(b"ab")], [STDERR, bytearray(b"!")], [STDOUT, bytearray(b"c")]])
        self.assertEqual((cell.size, cell.dropped, cell.output_text()), (4, 0, "ab!c"))

    def test_output_past_the_cap_is_dropped_and_counted(self):
        cell = CellStore(1 << 20).add("c1", "run", "")
        self.assertEqual(cell.add_output(STDOUT, b"12345", 8), b"12345")
        self.assertEqual(cell.add_output(STDOUT, b"6789", 8), b"678", "what fits is kept and streamed")
        self.assertEqual(cell.add_output(STDERR, b"xy", 8), b"", "nothing fits: nothing kept")
        self.assertEqual((cell.size, cell.dropped, cell.output_text()), (8, 3, "12345678"))

    def test_undecodable_output_is_escaped_not_lost(self):
        cell = CellStore(1 << 20).add("c1", "run", "")
        cell.add_output(STDOUT, b"\xff\xc3", 100)
        cell.add_output(STDOUT, b"\xa9", 100)
        self.assertEqual(cell.output_text(), "\\xff\u00e9")

    def test_title_is_the_first_non_blank_line_cut_at_120(self):
        store = CellStore(1 << 20)
        self.assertEqual(store.add("a", "run", "\n  \nx = 1\ny = 2").title(), "x = 1")
        long = store.add("b", "run", "z" * 200).title()
        self.assertEqual((len(long), long[-1]), (120, "\u2026"))
        self.assertEqual(store.add("c", "run", "").title(), "")

    def test_result_has_the_summary_and_what_the_mode_adds(self):
        store = CellStore(1 << 20)
        run = store.add("r", "run", "1")
        self.assertEqual(run.state, "queued")
        self.assertIsNone(run.duration(), "not started: no duration")
        self.assertNotIn("merged", run.result())
        fork = store.add("f", "fork", "1")
        self.assertEqual((fork.result()["merged"], fork.result()["skipped"]), ([], []))
        fork.images.append("/p.png")
        self.assertEqual(fork.result()["images"], ["/p.png"])
        self.assertEqual([run.seq, fork.seq], [1, 2])
        self.assertIs(store.latest(), fork)


class Eviction(unittest.TestCase):
    def test_under_both_caps_nothing_is_evicted(self):
        store = CellStore(100, retain_cells=3)
        for i in range(3):
            cell = store.add("c%d" % i, "run", "")
            cell.add_output(STDOUT, b"x" * 10, 1000)
            finish(store, cell)
        self.assertEqual((list(store.cells), store.evicted, store.done_bytes), (["c0", "c1", "c2"], 0, 30))

    def test_past_the_cell_cap_the_oldest_finished_go(self):
        store = CellStore(1 << 20, retain_cells=2)
        for i in range(4):
            finish(store, store.add("c%d" % i, "run", ""))
        self.assertEqual(list(store.cells), ["c2", "c3"])
        self.assertEqual((store.evicted, store.evicted_ids), (2, ["c0", "c1"]))

    def test_past_the_byte_cap_the_oldest_finished_go_and_running_cells_stay(self):
        store = CellStore(25)
        running = store.add("busy", "fire", "")
        running.state = "running"
        running.add_output(STDOUT, b"r" * 50, 1000)
        for i in range(3):
            cell = store.add("c%d" % i, "run", "")
            cell.add_output(STDOUT, b"x" * 10, 1000)
            finish(store, cell)
        self.assertEqual(list(store.cells), ["busy", "c1", "c2"])
        self.assertEqual(store.done_bytes, 20, "a running cell's output is not counted")

    def test_the_list_of_evicted_ids_is_bounded(self):
        store = CellStore(1 << 20, retain_cells=1)
        for i in range(300):
            finish(store, store.add("c%d" % i, "run", ""))
        self.assertEqual(store.evicted, 299)
        self.assertEqual(len(store.evicted_ids), 256)
        self.assertEqual(store.evicted_ids[-1], "c298")


if __name__ == "__main__":
    unittest.main()
