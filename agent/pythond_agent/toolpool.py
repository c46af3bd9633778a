"""A bounded thread pool for synchronous tool methods.

Threads start on demand up to max_threads and then stay; work queues in FIFO order when all
are busy. Lighter than concurrent.futures: no Future per call, the worker replies itself.
"""
import threading
from queue import SimpleQueue


class CallInterrupted(BaseException):
    """Raised inside a worker thread whose call was cancelled or ran past its deadline."""


class ToolPool:
    def __init__(self, max_threads):
        self.max_threads = max(1, int(max_threads))
        self._queue = SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads = []

    def submit(self, fn, *args):
        self._queue.put((fn, args))
        if self._idle.acquire(False):
            return
        if len(self._threads) < self.max_threads:
            t = threading.Thread(target=self._work, name="pythond-tool-%d" % len(self._threads), daemon=True)
            self._threads.append(t)
            t.start()

    def _work(self):
        get = self._queue.get
        while True:
            try:
                fn, args = get()
                fn(*args)
            except CallInterrupted:
                # A late interrupt aimed at a call this thread just finished: harmless here.
                pass
            self._idle.release()
