"""The tool agent's threads: they take turns reading the link and running synchronous calls.

One thread at a time is the reader. It reads a batch of frames and gets back the calls in it.
A batch of quick calls only (methods whose last run was short) runs on the reader itself, in
order, with grouped replies, and the reader then reads on: no thread wakes at all. Should such
a run stall, a watchdog gives the reading role to another thread within ~10 ms. Otherwise,
before running any call itself the reader passes the reading role to an idle thread (waking
one up, or starting one while under max_threads), so a call never waits for a thread to wake:
the next reader wakes while the call runs. It then runs the batch's quick calls, or else the
last call; the other calls queue for idle threads. When no thread is free to take over, the
reader queues every call and goes on reading, so cancels and credits are always read at once.
Threads start on demand and then stay.
"""
import threading
import time
from queue import SimpleQueue


class CallInterrupted(BaseException):
    """Raised inside a worker thread whose call was cancelled or ran past its deadline."""


_READ = object()  # a queue item: take over reading
STALL_S = 0.005  # a reader running quick calls for longer than this hands reading on (watchdog)


class ToolPool:
    def __init__(self, max_threads, read_batch, run_quick):
        """At most max_threads calls run at once. read_batch() blocks for the next frames and
        returns the calls among them as (quick, other), lists of (fn, args), handling every
        other frame itself; None at the end. run_quick(jobs) runs quick calls in order."""
        self.max_threads = max(1, int(max_threads)) + 1  # max_threads calls, and one reader
        self.read_batch = read_batch
        self.run_quick = run_quick
        self._queue = SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._waiting = 0  # threads blocked on the queue
        self._queued = 0  # items in the queue
        self.finished = threading.Event()  # the link ended (or broke), or the reader failed
        self.error = None  # what made the reader fail
        self._generation = 0  # bumped when the watchdog gives the reading role to a new thread
        self._running_since = None  # when the reader began running quick calls itself
        self._watch = None  # set while the watchdog has a reader to watch (started on first use)

    def start(self):
        self._put(_READ)

    def submit(self, fn, *args):
        self._put((fn, args))

    def _put(self, item, only_if_free=False):
        """Queue an item; start a thread if none is waiting for it. With only_if_free, queue it
        only if a thread will take it at once (returns whether it was queued)."""
        with self._lock:
            free = self._waiting > self._queued
            if not free and self._threads < self.max_threads:
                self._threads += 1
                threading.Thread(target=self._work, name="pythond-tool-%d" % self._threads, daemon=True).start()
                free = True
            if only_if_free and not free:
                return False
            self._queued += 1
        self._queue.put(item)
        return True

    def _work(self):
        get = self._queue.get
        lock = self._lock
        while True:
            with lock:
                self._waiting += 1
            item = get()
            with lock:
                self._waiting -= 1
                self._queued -= 1
            try:
                if item is _READ:
                    self._read()
                else:
                    fn, args = item
                    fn(*args)
            except CallInterrupted:
                # A late interrupt aimed at a call this thread just finished: harmless here.
                pass
            except Exception as e:
                if item is not _READ:
                    raise
                # Nobody would read the link any more: end the agent and say why, not hang.
                self.error = e
                self.finished.set()
                return

    def _read(self):
        generation = self._generation
        while True:
            batch = self.read_batch()
            if batch is None:
                self.finished.set()
                return
            quick, other = batch
            if quick and not other:
                # Quick calls only: run them here and keep reading afterwards, without waking a
                # thread; if they stall, the watchdog gives the reading role to another thread.
                if self._run_watched(quick, generation):
                    continue
                return
            if not quick and not other:
                continue
            if not self._put(_READ, only_if_free=True):
                # No thread could read in our place: everything queues, we go on reading.
                for fn, args in quick + other:
                    self.submit(fn, *args)
                continue
            # Another thread reads meanwhile: run the quick calls here, or else the last one.
            if quick:
                for fn, args in other:
                    self.submit(fn, *args)
                self.run_quick(quick)
            else:
                for fn, args in other[:-1]:
                    self.submit(fn, *args)
                fn, args = other[-1]
                fn(*args)
            return

    def _run_watched(self, quick, generation):
        """Run quick calls on the reading thread; True if it is still the reader afterwards."""
        with self._lock:
            self._running_since = time.monotonic()
        if self._watch is None:
            self._watch = threading.Event()
            threading.Thread(target=self._watchdog, name="pythond-tool-watchdog", daemon=True).start()
        if not self._watch.is_set():
            self._watch.set()  # the watchdog sleeps while nothing runs: wake it
        try:
            self.run_quick(quick)
        finally:
            with self._lock:
                self._running_since = None
                still_reader = self._generation == generation
        return still_reader

    def _watchdog(self):
        while True:
            self._watch.wait()
            time.sleep(STALL_S)
            with self._lock:
                since = self._running_since
                if since is None:
                    self._watch.clear()  # nothing running: sleep until the next quick run
                    continue
                if time.monotonic() - since < STALL_S:
                    continue
                self._generation += 1  # the stalled thread becomes a worker when it returns
                self._running_since = None
            self._put(_READ)
