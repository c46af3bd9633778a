"""The keeper: the small parent of a session's interpreter, there to keep its last words.

Forked at the agent's start, before any thread exists, the keeper holds the reading ends of the
capture pipes (capture.py) and the agent's listening socket, and waits for the interpreter. When
the interpreter ends by itself (a crash, os._exit, a signal) the keeper drains what the pipes
still hold (what the cell wrote last, a faulthandler dump) and, while the socket file is still
the agent's, hands that with the exit status to the first controller that connects: the daemon,
whose link to the interpreter has just closed, or a restarted daemon adopting the agent.
A session ended on purpose removes its socket first, and the keeper just exits.
The interpreter names its running cell in a shared page (a memory write per cell, no syscall).
"""
import mmap
import os
import signal
import socket
import struct
import time

from pythond_agent.link import Link

# How long a keeper waits for a controller to collect the last words (a daemon may be down).
WAIT_S = float(os.environ.get("PYTHOND_KEEPER_WAIT", "600"))
_MAX = 4 << 20  # per pipe; a pipe holds 1 MiB (capture.py), so this is only a bound
_ID_MAX = 63


_COUNTS = struct.Struct("<QQ")  # per stream: bytes consumed, bytes being consumed now


class CellMark:
    """What the keeper must know of the interpreter, in one shared page: the running cell
    (byte 0 is the id's length, the id follows) and, per stream, how much of its pipe has been
    consumed (capture.Capture.consume)."""

    def __init__(self):
        self.page = mmap.mmap(-1, 256)

    def consumed(self, stream, done, pending):
        _COUNTS.pack_into(self.page, 64 + 16 * stream, done, pending)

    def start_of_leftover(self, pipe):
        """The stream offset of the first byte still in pipe (after the interpreter died)."""
        done, pending = _COUNTS.unpack_from(self.page, 64 + 16 * pipe.stream)
        if not pending:
            return done
        try:
            still_peeked = pipe.peek_offset()  # what the interrupted recv did not take
        except OSError:
            still_peeked = pending
        return done + pending - min(still_peeked, pending)

    def set(self, cell_id):
        b = cell_id.encode("ascii", "replace")[:_ID_MAX]
        self.page[0] = 0
        self.page[1 : 1 + len(b)] = b
        self.page[0] = len(b)

    def clear(self):
        self.page[0] = 0

    def get(self):
        n = self.page[0]
        return self.page[1 : 1 + n].decode("ascii", "replace") if n else None


def fork(pipes, server, socket_path, close_fds):
    """Split into keeper (the parent, never returns) and interpreter (returns its CellMark).

    The interpreter gets a process group of its own: the daemon's kill of the session's group
    ends it and its children, while the keeper lives on to report."""
    mark = CellMark()
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        return mark
    try:
        _keep(pid, pipes, server, socket_path, mark, close_fds)
    finally:
        os._exit(0)


def _keep(child, pipes, server, socket_path, mark, close_fds):
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)  # not a writer of the pipes: they read EOF once the writers are gone
    os.close(null)
    try:
        ino = os.stat(socket_path).st_ino
    except OSError:
        return
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            return
    reason = describe(status)
    cell = mark.get()
    starts = [mark.start_of_leftover(p) for p in pipes]  # before drain() moves the peek offset
    streams, offsets, blobs = drain(pipes, starts)
    if not _ours(socket_path, ino):
        return  # ended on purpose (kill, orphan check): nobody waits for a report
    header = {"k": "last", "v": 1, "cell": cell, "reason": reason, "s": streams, "o": offsets}
    server.settimeout(1.0)
    deadline = time.time() + WAIT_S
    while time.time() < deadline and _ours(socket_path, ino):
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        except OSError:
            time.sleep(0.05)
            continue
        conn.settimeout(None)
        fd = conn.detach()
        link = Link(fd, fd)
        link.send(dict(header), blobs)
        link.close()
        break
    if _ours(socket_path, ino):
        try:
            os.unlink(socket_path)
        except OSError:
            pass


def _ours(path, ino):
    try:
        return os.stat(path).st_ino == ino
    except OSError:
        return False


def describe(status):
    """The exit status as the daemon words it ("killed by SIGSEGV", "exited with status 1")."""
    if os.WIFSIGNALED(status):
        n = os.WTERMSIG(status)
        try:
            name = signal.Signals(n).name
        except ValueError:
            name = "signal %d" % n
        return "killed by %s" % name
    return "exited with status %d" % os.WEXITSTATUS(status)


def drain(pipes, starts):
    """What the pipes hold now, in fd order: ([stream], [offset in stream], [bytes])."""
    streams, offsets, blobs = [], [], []
    for pipe, start in zip(pipes, starts):
        got = bytearray()
        while len(got) < _MAX:
            try:
                data = pipe.sock.recv(1 << 20)
            except InterruptedError:
                continue
            except OSError:
                break  # EAGAIN: empty for now (a child of the cell may still hold it)
            if not data:
                break
            got += data
        if got:
            streams.append(pipe.stream)
            offsets.append(start)
            blobs.append(bytes(got[:_MAX]))
    return streams, offsets, blobs
