"""Fork cells of a session agent (`pysh fork`).

The reader thread records the identity of every public name, then forks. The child
calls setsid (its own process group), sends all of its output (every thread, fd level) to a
temp file, runs the cell, and writes one result back over a pipe: output, a failure flag and
the pickled values of the public names that are new or rebound. The parent merges them only
if the cell did not fail (last writer wins); names it cannot take are listed in `skipped`.
Stdlib only; pickle/tempfile are imported lazily (first fork), never on the idle path.
"""
import os
import signal
import struct
import sys
import threading
import time

from pythond_agent.cells import STDOUT
from pythond_agent.finish import finish_cell
import pythond_agent.link as frames

FORK_RESULT_CAP = 16 << 20  # as pythond 0.4: a bigger fork result is an error, not a hang
_TOO_LARGE = "fork result too large; use smaller output"


# -- fork cells ------------------------------------------------------------------------
class ForkRunner:
    def __init__(self, session):
        self.session = session
        self.live = {}  # cell id -> child pid (also its process group)
        self.lock = threading.Lock()

    def start(self, cell):
        import pickle  # noqa: F401  (imported before fork so the child never imports under a held lock)
        import tempfile  # noqa: F401
        import warnings

        ns = self.session.ns
        before = {k: id(v) for k, v in list(ns.items()) if not k.startswith("_")}
        r, w = os.pipe()
        cell.state = "running"
        cell.started_at = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "fork() in a multi-threaded process" (3.12+)
            pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                os.close(r)
                _child(self.session, cell, before, w)
            finally:
                os._exit(70)
        os.close(w)
        with self.lock:
            self.live[cell.id] = pid
        self.session.send(frames.event("start", c=cell.id))
        threading.Thread(target=self._wait, args=(cell, pid, r), name="pythond-fork", daemon=True).start()

    def kill_all(self):
        """SIGKILL every live fork's process group (grandchildren included). Returns pids."""
        with self.lock:
            pids = list(self.live.values())
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return pids

    def _wait(self, cell, pid, r):
        data = bytearray()
        too_large = False
        while True:
            chunk = os.read(r, 1 << 20)
            if not chunk:
                break
            if len(data) + len(chunk) > FORK_RESULT_CAP + 16:
                too_large = True
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                break
            data += chunk
        os.close(r)
        status = None
        try:
            status = os.waitpid(pid, 0)[1]
        except OSError:
            pass
        try:
            os.killpg(pid, signal.SIGKILL)  # leftovers of its group (background grandchildren)
        except OSError:
            pass
        with self.lock:
            self.live.pop(cell.id, None)
        merged, skipped = [], []
        if too_large:
            ok, output, error = False, _TOO_LARGE.encode(), _error("ForkResultTooLarge", _TOO_LARGE)
        elif len(data) < 8:
            how = _ended(status)
            killed = how.startswith("killed")  # shown as "(killed)", as before; the error names the signal
            output = b"(killed)" if killed else ("(%s)" % how).encode()
            ok, error = False, _error("Killed" if killed else "ForkExited", "the fork ended without a result (%s)" % how)
        else:
            ok, output, error, values, skipped = _decode(bytes(data))
            if ok:
                merged, more_skipped = _merge(self.session.ns, values)
                skipped += more_skipped
            else:
                skipped = []
        session = self.session
        with session.capture.lock:
            kept = cell.add_output(STDOUT, output, session.max_output) if output else b""
            if kept:
                session.send(frames.event("out", c=cell.id, s=STDOUT), [kept])
            cell.merged, cell.skipped = merged, skipped
            finish_cell(session, cell, ok, None, error)


def _ended(status):
    """How a fork child ended, from its wait status: "exit status 4", "killed by SIGSEGV"."""
    if status is None:
        return "killed"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            return "killed by %s" % signal.Signals(sig).name
        except ValueError:
            return "killed by signal %d" % sig
    if os.WIFEXITED(status):
        return "exit status %d" % os.WEXITSTATUS(status)
    return "killed"


def _error(kind, message):
    return {"type": kind, "message": message, "traceback": message + "\n"}


def _orphan_watch(parent):
    """In a fork child: if the agent dies (e.g. killed by an escalated interrupt), end the
    child's whole process group instead of leaving it running unowned."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os.killpg(0, signal.SIGKILL)


def _child(session, cell, before, w):
    parent = os.getppid()
    os.setsid()
    threading.Thread(target=_orphan_watch, args=(parent,), daemon=True).start()
    import pickle
    import tempfile

    for fd in _link_fds(session):
        try:
            os.close(fd)
        except OSError:
            pass
    out = tempfile.TemporaryFile()
    os.dup2(out.fileno(), 1)
    os.dup2(out.fileno(), 2)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    session.current = None
    ok, value, error = session.executor.run(cell.code, "<cell-%d>" % cell.seq)
    if value is not None:
        sys.stdout.write(value + "\n")
    if error is not None:
        sys.stderr.write(error["traceback"])
    sys.stdout.flush()
    sys.stderr.flush()
    out.seek(0)
    output = out.read(FORK_RESULT_CAP + 1)
    values, skipped = {}, []
    if ok:
        for k, v in list(session.ns.items()):
            if k.startswith("_") or before.get(k) == id(v):
                continue
            try:
                values[k] = pickle.dumps(v, protocol=4)
            except Exception:
                skipped.append(k)
    import json

    head = json.dumps({"ok": ok, "error": error, "skipped": skipped, "names": list(values)}).encode()
    parts = [struct.pack(">II", len(head), len(output)), head, output]
    for k in values:
        parts += [struct.pack(">I", len(values[k])), values[k]]
    payload = b"".join(parts)
    if len(payload) > FORK_RESULT_CAP:
        msg = _TOO_LARGE.encode()
        head = json.dumps({"ok": False, "error": _error("ForkResultTooLarge", _TOO_LARGE), "skipped": [], "names": []}).encode()
        payload = struct.pack(">II", len(head), len(msg)) + head + msg
    view = memoryview(payload)
    while view:
        n = os.write(w, view)
        view = view[n:]
    os._exit(0)


def _link_fds(session):
    fds = []
    link = session.link
    if link is not None:
        fds += [getattr(link, "rfd", None), getattr(link, "wfd", None)]
    try:
        fds.append(session.server.fileno())
    except Exception:
        pass
    return [fd for fd in set(fds) if isinstance(fd, int) and fd > 2]


def _decode(data):
    import json

    hlen, olen = struct.unpack(">II", data[:8])
    head = json.loads(data[8 : 8 + hlen])
    pos = 8 + hlen
    output = data[pos : pos + olen]
    pos += olen
    values = {}
    for k in head["names"]:
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        values[k] = data[pos + 4 : pos + 4 + n]
        pos += 4 + n
    return head["ok"], output, head["error"], values, list(head["skipped"])


def _merge(ns, values):
    """Unpickle each name; refuse anything that refers to the child's __main__ (cell-defined
    functions, classes and their instances): in the parent those would be other objects."""
    import io
    import pickle

    class Loader(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "__main__":
                raise pickle.UnpicklingError("defined in the cell")
            return super().find_class(module, name)

    merged, skipped = [], []
    for k, blob in values.items():
        try:
            ns[k] = Loader(io.BytesIO(blob)).load()
            merged.append(k)
        except Exception:
            skipped.append(k)
    return merged, skipped
