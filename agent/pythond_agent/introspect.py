"""Control requests that run user code: completion and the namespace listing.

Completing "obj." calls the user's __dir__, __getattr__ and properties, which may block or
loop; listing names may meet odd keys. None of that may run on the thread that answers control
requests (status and int must get through while it hangs), so each such request runs on a
worker thread of its own and is answered by whichever comes first: its result, or an
IntrospectionTimeout at its deadline. A worker stuck past its deadline cannot be stopped (Python
has no thread kill); it finishes in the background, and while MAX_STUCK of them are stuck,
further requests are refused at once instead of piling up threads.
"""
import threading

from pythond_agent.deadlines import DeadlineWatcher

DEFAULT_TIMEOUT_S = 3.0
MAX_TIMEOUT_S = 60.0
MAX_STUCK = 4


class IntrospectionTimeout(Exception):
    pass


class IntrospectionBusy(Exception):
    pass


class Introspector:
    def __init__(self):
        self._lock = threading.Lock()
        self._pending = {}  # request key -> reply(result, error), until answered once
        self._next = 0
        self._busy = 0  # workers still inside user code
        self._watcher = None

    def run(self, what, fn, reply, timeout=None):
        """Run fn() on a worker thread; call reply(result, None) or reply(None, error) once."""
        timeout = DEFAULT_TIMEOUT_S if timeout is None else min(max(float(timeout), 0.01), MAX_TIMEOUT_S)
        with self._lock:
            if self._busy >= MAX_STUCK:
                raise IntrospectionBusy(
                    "%s refused: %d earlier requests are still stuck in user code "
                    "(__dir__, __getattr__ or a property that does not return)" % (what, self._busy))
            self._busy += 1
            self._next += 1
            key = self._next
            self._pending[key] = reply
            if self._watcher is None:
                self._watcher = DeadlineWatcher(self._expire)
        self._watcher.add(timeout, (key, what, timeout))

        def work():
            try:
                result, error = fn(), None
            except Exception as e:  # user code raised: the request fails, the session does not
                result, error = None, e
            with self._lock:
                self._busy -= 1
            self._answer(key, result, error)

        threading.Thread(target=work, name="pythond-introspect", daemon=True).start()

    def wait(self, what, fn, timeout):
        """Run fn() as run() does and wait for it (at most timeout s); raise what it raised."""
        done = threading.Event()
        box = []

        def reply(result, error):
            box.append((result, error))
            done.set()

        self.run(what, fn, reply, timeout)
        done.wait(timeout + 1)
        if not box:
            raise IntrospectionTimeout("%s timed out" % what)
        result, error = box[0]
        if error is not None:
            raise error
        return result

    def _expire(self, item):
        key, what, timeout = item
        self._answer(key, None, IntrospectionTimeout(
            "%s gave up after %g s: user code it ran (__dir__, __getattr__ or a property) did "
            "not return; the session is unharmed and the call finishes in the background" % (what, timeout)))

    def _answer(self, key, result, error):
        with self._lock:
            reply = self._pending.pop(key, None)
        if reply is not None:
            reply(result, error)
