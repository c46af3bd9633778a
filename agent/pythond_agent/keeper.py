"""The keeper: the small parent of a session's interpreter, there to keep its last words.

Forked at the agent's start, before any thread exists, the keeper holds the reading ends of the
capture pipes (capture.py) and the agent's listening socket, and waits for the interpreter. When
the interpreter ends by itself (a crash, os._exit, a signal) the keeper drains what the pipes
still hold (what the cell wrote last, a faulthandler dump) and, while the socket file is still
the agent's, hands that with the exit status to the first controller that connects: the daemon,
whose link to the interpreter has just closed, or a restarted daemon adopting the agent.
A session ended on purpose removes its socket first, and the keeper just exits.
The interpreter names its running cell in a shared page (a memory write per cell, no syscall).

When a cell leaves a child process holding fds 1 and 2, the interpreter puts fresh pipes on
them (capture.separate_children) and hands their reading ends to the keeper first (SCM_RIGHTS
over a socket pair made before the fork). The keeper is a child subreaper (Linux): a process
orphaned by a cell's child (a shell's background job) becomes the keeper's child, where the
interpreter can see it, and the keeper reaps it.
"""
import mmap
import os
import select
import signal
import socket
import struct
import sys
import time

import pythond_agent.link as frames
from pythond_agent.link import Link, LinkError

# How long a keeper waits for a controller to collect the last words (a daemon may be down).
WAIT_S = float(os.environ.get("PYTHOND_KEEPER_WAIT", "600"))
# How long a peer that connected has to prove the session's secret.
PROOF_WAIT_S = 5
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


class Handle:
    """The interpreter's side of its keeper: the shared page, the hand-over of fresh pipes,
    and the processes orphaned to the keeper."""

    def __init__(self, mark, channel):
        self.mark = mark
        self.channel = channel
        self.sent = 0
        self._me = str(os.getpid()).encode()
        keeper = os.getppid()
        try:
            self._children = os.open("/proc/%d/task/%d/children" % (keeper, keeper), os.O_RDONLY)
        except OSError:
            self._children = None  # no /proc (or no CONFIG_PROC_CHILDREN): orphans unseen

    def hand_over(self, pipes):
        """Give the keeper the reading ends of the pipes fds 1 and 2 are about to become."""
        self.sent += 1
        socket.send_fds(self.channel, [b"%d" % self.sent], [p.fd for p in pipes])

    def orphans(self):
        """Pids (bytes) of the keeper's children other than this interpreter."""
        if self._children is None:
            return frozenset()
        try:
            pids = set(os.pread(self._children, 1 << 16, 0).split())
        except OSError:
            return frozenset()
        pids.discard(self._me)
        return pids


def fork(pipes, server, socket_path, close_fds, secret=None):
    """Split into keeper (the parent, never returns) and interpreter (returns its Handle).

    The interpreter gets a process group of its own: the daemon's kill of the session's group
    ends it and its children, while the keeper lives on to report."""
    mark = CellMark()
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    _become_subreaper()  # before the fork: not inherited, and no orphan may come earlier
    pid = os.fork()
    if pid == 0:
        ours.close()
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        return Handle(mark, theirs)
    try:
        theirs.close()
        _keep(pid, pipes, server, socket_path, mark, close_fds, ours, secret)
    finally:
        os._exit(0)


def _become_subreaper():
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass  # orphans go to init, as before


def _wait(child, channel, pipes):
    """Until the interpreter ends: reap orphans, take the pipes it hands over. Its status."""
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    signal.signal(signal.SIGCHLD, lambda *_: None)
    channel.setblocking(False)
    while True:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid == child:
                _take_pipes(channel, pipes)  # what it handed over before it died
                return status
            if pid == 0:
                break
        ready, _, _ = select.select([channel, wake_r], [], [])
        if channel in ready:
            _take_pipes(channel, pipes)
        if wake_r in ready:
            try:
                wake_r.recv(256)
            except OSError:
                pass


def _take_pipes(channel, pipes):
    """Replace pipes (in place) with the newest set the interpreter handed over."""
    from pythond_agent.capture import Pipe

    while True:
        try:
            _, fds, _, _ = socket.recv_fds(channel, 64, 8)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        if len(fds) != len(pipes):
            for fd in fds:
                os.close(fd)
            if not fds:
                return  # the end (no writer left)
            continue
        old = list(pipes)
        pipes[:] = [Pipe(p.stream, socket.socket(fileno=fd)) for p, fd in zip(old, fds)]
        for p in pipes:
            p.sock.setblocking(False)
        for p in old:
            p.sock.close()


def _keep(child, pipes, server, socket_path, mark, close_fds, channel, secret):
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
    status = _wait(child, channel, pipes)
    if status is None:
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
        # A peer that says nothing must not hold the report hostage: reads give up after 5 s.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", PROOF_WAIT_S, 0))
        fd = conn.detach()
        link = Link(fd, fd)
        try:
            proved = secret is None or _proves_secret(link, secret)
            if proved:
                link.send(dict(header), blobs)
        except (OSError, LinkError):
            proved = False
        link.close()
        if proved:
            break
    if _ours(socket_path, ino):
        try:
            os.unlink(socket_path)
        except OSError:
            pass


def _proves_secret(link, secret):
    """Only the daemon holding the session's secret gets the last words (as only it may control
    the live agent, session.py): a stray connection must not take them away from it."""
    import hashlib
    import hmac

    nonce = os.urandom(16).hex()
    link.send({"k": "hello", "v": 1, "nonce": nonce, "auth": "hmac-sha256", "last": True})
    for header, _ in link.frames():
        mac = header.get("mac")
        expected = hmac.new(secret, nonce.encode("ascii"), hashlib.sha256).hexdigest()
        ok = header.get("op") == "auth" and isinstance(mac, str) and mac.isascii() and hmac.compare_digest(expected, mac)
        if ok:
            link.send(frames.result(header.get("i"), {}))
        else:
            link.send(frames.error(header.get("i"), "AuthError", "only the session's daemon may collect its last words"))
        return ok
    return False


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
