"""One thread that fires per-call deadlines (a heap), started on the first call that has one."""
import heapq
import threading
import time


class DeadlineWatcher:
    def __init__(self, expire):
        self._expire = expire
        self._heap = []
        self._cond = threading.Condition()
        threading.Thread(target=self._run, name="pythond-deadlines", daemon=True).start()

    def add(self, seconds, cid):
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, cid))
            self._cond.notify()

    def _run(self):
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, cid = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            self._expire(cid)  # a call that already finished is simply absent
