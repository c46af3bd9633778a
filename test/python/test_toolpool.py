"""The tool agent's thread pool (agent/pythond_agent/toolpool.py), fed batches of calls the way
the link reader returns them: every call runs, quick ones in order, never more than max_threads
at once, the link is still read while every thread is busy, and a stalled quick call does not
stop the reading. Waits have deadlines: a broken pool fails the test, never hangs it."""
import agent_path  # noqa: F401  (first: puts agent/ on sys.path)

import queue
import threading
import time
import unittest

from pythond_agent.toolpool import CallInterrupted, ToolPool

DEADLINE_S = 10


class Feeder:
    """The link, as the pool sees it: batches put here are what read_batch() returns."""

    def __init__(self, max_threads=4):
        self.batches = queue.Queue()
        self.reads = 0
        self.ran_quick_on = []
        self.pool = ToolPool(max_threads, self._read_batch, self._run_quick)

    def _read_batch(self):
        batch = self.batches.get(timeout=DEADLINE_S)  # no batch in time: the pool fails, the test sees it
        self.reads += 1
        if callable(batch):
            return batch()
        return batch

    def _run_quick(self, jobs):
        self.ran_quick_on.append(threading.current_thread().name)
        for fn, args in jobs:
            fn(*args)

    def send(self, quick=(), other=()):
        self.batches.put((list(quick), list(other)))

    def end(self):
        self.batches.put(None)
        self.assertFinished()

    def assertFinished(self):
        if not self.pool.finished.wait(DEADLINE_S):
            raise AssertionError("the pool did not finish")


def wait_for(event, what):
    if not event.wait(DEADLINE_S):
        raise AssertionError("timed out waiting for " + what)


def until(condition, what):
    """Calls on other threads may still be finishing after the pool read the end."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.01)


class ToolPoolTest(unittest.TestCase):
    def test_every_call_runs_and_quick_calls_keep_their_order(self):
        f = Feeder()
        done = []
        f.pool.start()
        f.send(quick=[(done.append, (1,)), (done.append, (2,))])
        f.send(quick=[(done.append, (3,))], other=[(done.append, ("slow",))])
        f.end()
        self.assertIsNone(f.pool.error)
        until(lambda: len(done) == 4, "four calls")
        self.assertEqual(sorted(map(str, done)), ["1", "2", "3", "slow"])
        self.assertEqual([x for x in done if x != "slow"], [1, 2, 3])

    def test_no_more_than_max_threads_calls_at_once_and_the_link_is_still_read(self):
        f = Feeder(max_threads=2)
        lock = threading.Lock()
        running = [0, 0]  # now, peak
        release = threading.Event()
        two_running = threading.Event()
        finished = []

        def call(i):
            with lock:
                running[0] += 1
                running[1] = max(running)
                if running[0] == 2:
                    two_running.set()
            release.wait(DEADLINE_S)
            with lock:
                running[0] -= 1
                finished.append(i)

        f.pool.start()
        for i in range(5):
            f.send(other=[(call, (i,))])
        wait_for(two_running, "two calls to run")
        # Every thread is busy or reading: a frame such as a cancel is still read at once.
        read_meanwhile = threading.Event()
        f.batches.put(lambda: (read_meanwhile.set(), ([], []))[1])
        wait_for(read_meanwhile, "the link to be read while both calls run")
        with lock:
            self.assertEqual(running, [2, 2], "the other three calls wait for a thread")
        release.set()
        until(lambda: len(finished) == 5, "five calls")
        self.assertEqual(sorted(finished), [0, 1, 2, 3, 4])
        f.end()

    def test_a_stalled_quick_call_hands_the_reading_to_another_thread(self):
        f = Feeder()
        release = threading.Event()
        later = threading.Event()
        f.pool.start()
        f.send(quick=[(release.wait, (DEADLINE_S,))])
        f.send(quick=[(later.set, ())])
        wait_for(later, "the next batch to run while the first quick call stalls")
        self.assertFalse(release.is_set())
        release.set()
        f.end()
        self.assertGreaterEqual(len(set(f.ran_quick_on)), 2, "two threads ran quick calls")

    def test_an_interrupted_call_leaves_its_thread_working(self):
        f = Feeder(max_threads=1)
        ran = threading.Event()

        def interrupted():
            raise CallInterrupted()

        f.pool.start()
        f.send(other=[(interrupted, ())])
        f.send(other=[(ran.set, ())])
        wait_for(ran, "a call after the interrupted one")
        f.end()
        self.assertIsNone(f.pool.error)

    def test_a_reader_that_fails_ends_the_pool_and_says_why(self):
        f = Feeder()

        def broken():
            raise OSError("link broke")

        f.pool.start()
        f.batches.put(broken)
        f.assertFinished()
        self.assertIsInstance(f.pool.error, OSError)
        self.assertEqual(str(f.pool.error), "link broke")


if __name__ == "__main__":
    unittest.main()
