"""Output capture for a session agent.

fds 1 and 2 are stream sockets ("pipes" below) for the life of the agent, and every byte a cell
writes passes through them: print() as well as os.write, C code and child processes. Bytes in a
pipe have left the interpreter: if it dies, the keeper (keeper.py), which holds the pipes'
reading ends too, drains them and hands them to the daemon, so a cell's last words are kept.

While the interpreter lives, its capture thread reads the pipes and gives every piece to one
sink under one lock (the running agent cell). It reads with MSG_PEEK (SO_PEEK_OFF: each peek
goes on where the last one ended) and consumes bytes only once they have been written to the
controller, so nothing is ever only in the interpreter's memory. Output frames carry each
piece's offset in its stream; the keeper reports where its leftover starts (the consumed count
published in the shared page, see consume()), so the daemon skips what it already has.
A Python-level write first drains both pipes, so stdout and stderr keep the order in which
they were written, each with its own bytes.

sys.stdout is a C text buffer (print() costs what it costs in plain Python) that is
line-buffered while output is sparse and block-buffered while it pours; either way it is flushed
at most FLUSH_S late and at the cell's end. sys.stderr is unbuffered and flushes stdout first.

A thread writes for the cell that started it while that cell runs. After that cell has ended
(or for a thread no cell started) its writes go to the background sink, never to another cell.
A child process writes into the pipes it inherited: when a cell ends leaving a new child alive,
fds 1 and 2 get fresh pipes (separate_children) and the old ones are read as background output.
"""
import io
import os
import select
import socket
import sys
import threading
import time

from pythond_agent.cells import STDERR, STDOUT

_SO_PEEK_OFF = getattr(socket, "SO_PEEK_OFF", 42 if sys.platform.startswith("linux") else None)
_CHUNK = 1 << 20
# A str longer than this is written in slices of it: the first bytes leave while the rest is
# still being encoded (one 50 MB print() held its first byte back ~50 ms here, encoding it all).
_TEXT_SLICE = 1 << 20
FLUSH_S = 0.05  # the longest print() output waits in the buffer while a cell runs
# Line flushes per FLUSH_S above which stdout switches to block buffering, and bytes per
# FLUSH_S below which it goes back to line buffering.
_BLOCK_ABOVE = 64
_LINES_BELOW = 4096
_get_ident = threading.get_ident
try:
    from resource import RUSAGE_CHILDREN as _RUSAGE_CHILDREN, getrusage as _getrusage
except ImportError:
    _getrusage = None
# The agent's own threads (main, capture, flush, accept, pump, one controller link): more than
# that, and a cell may have left a thread that starts processes.
_AGENT_THREADS = 6


class Pipe:
    """The reading end of fd 1 or 2, with what was peeked and consumed of it."""

    def __init__(self, stream, sock):
        self.stream = stream
        self.sock = sock
        self.fd = sock.fileno()
        self.peek = False
        if _SO_PEEK_OFF is not None:
            try:
                self.peek = sock.getsockopt(socket.SOL_SOCKET, _SO_PEEK_OFF) >= 0
            except OSError:
                pass
        self.flags = socket.MSG_PEEK if self.peek else 0
        self.peeked = 0  # bytes of this stream read so far (peeked or, without peek, taken)
        self.consumed = 0  # bytes taken out of the socket

    @classmethod
    def fresh(cls, stream):
        """A new socket pair for stream: (its Pipe, the writing end to put on fd stream)."""
        r, w = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            w.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _CHUNK)
        except OSError:
            pass
        if _SO_PEEK_OFF is not None:
            try:
                r.setsockopt(socket.SOL_SOCKET, _SO_PEEK_OFF, 0)
            except OSError:
                pass
        r.shutdown(socket.SHUT_WR)
        r.setblocking(False)
        return cls(stream, r), w

    def peek_offset(self):
        return self.sock.getsockopt(socket.SOL_SOCKET, _SO_PEEK_OFF) if self.peek else 0

    def install(self, w):
        os.dup2(w.fileno(), self.stream)
        w.close()


def open_pipes():
    """Point fds 1 and 2 at fresh pipes; return their Pipes. Before the keeper forks."""
    pipes = []
    for stream in (STDOUT, STDERR):
        pipe, w = Pipe.fresh(stream)
        pipe.install(w)
        pipes.append(pipe)
    return pipes


def _open_children(tid):
    """A kept-open /proc file listing the children of thread tid, or None."""
    try:
        return os.open("/proc/self/task/%d/children" % tid, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # no /proc, or no CONFIG_PROC_CHILDREN


def _read_children(fd):
    try:
        return set(os.pread(fd, 1 << 16, 0).split())
    except OSError:
        return set()


def _reaped():
    """What every child reaped so far adds up to: changes whenever one more is reaped."""
    if _getrusage is None:
        return None
    r = _getrusage(_RUSAGE_CHILDREN)
    return (r.ru_minflt, r.ru_utime, r.ru_stime)


def _user_thread_children():
    """Children of threads a cell started (the executor's are read apart). The agent's own
    threads start no process that writes into fds 1 and 2 (a fork cell has pipes of its own)."""
    pids = set()
    for t in threading.enumerate():
        tid = getattr(t, "native_id", None)
        if tid is None or tid == os.getpid() or t.name.startswith("pythond-"):
            continue
        fd = _open_children(tid)
        if fd is not None:
            try:
                pids |= _read_children(fd)
            finally:
                os.close(fd)
    return pids


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        view = view[n:]


class _Raw(io.RawIOBase):
    """The raw layer under sys.stdout: each block goes into the pipe after both pipes drained."""

    def __init__(self, capture, stream):
        super().__init__()
        self._capture = capture
        self._stream = stream
        self.flushes = 0
        self.bytes = 0

    def write(self, data):
        self.flushes += 1
        self.bytes += len(data)
        self._capture.put(self._stream, data)
        return len(data)

    def writable(self):
        return True

    def fileno(self):
        return self._stream

    def isatty(self):
        return False

    def close(self):
        pass  # a cell that closes sys.stdout must not end the capture


class _Err:
    """What sys.stderr and sys.stderr.buffer share: unbuffered, stdout flushed first."""

    closed = False

    def __init__(self, capture):
        self._capture = capture

    def flush(self):
        pass

    def fileno(self):
        return STDERR

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    def _put(self, data):
        if not data:
            return
        c = self._capture
        if c.is_cell_thread():
            try:
                c.out.flush()
            except Exception:
                pass
            c.put(STDERR, data)
        else:
            c.background_write(STDERR, data)


class _ErrBinary(_Err):
    def write(self, data):
        self._put(bytes(data))
        return len(data)


class _ErrText(_Err):
    encoding = "utf-8"
    errors = "backslashreplace"
    line_buffering = True
    name = "<stderr>"

    def __init__(self, capture):
        super().__init__(capture)
        self.buffer = _ErrBinary(capture)

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        self._put(text.encode("utf-8", "backslashreplace"))
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)


class _Out:
    """sys.stdout: the C text buffer for cell threads, the background sink for other threads."""

    def __init__(self, capture, text):
        self._capture = capture
        self._text = text
        self._write = text.write
        self._main = capture.main_ident

    def write(self, text):
        if _get_ident() == self._main or self._capture.is_cell_thread():
            if type(text) is not str or len(text) <= _TEXT_SLICE:
                return self._write(text)
            # utf-8 with backslashreplace encodes code point by code point (a lone surrogate
            # alone too), so slices encode to exactly the bytes of the whole.
            for i in range(0, len(text), _TEXT_SLICE):
                self._write(text[i : i + _TEXT_SLICE])
            return len(text)
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        self._capture.background_write(STDOUT, text.encode("utf-8", "backslashreplace"))
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def isatty(self):
        return False

    def __getattr__(self, name):  # buffer, flush, fileno, encoding, ...: the text buffer's
        return getattr(self._text, name)


class Capture:
    def __init__(self, sink, background, pipes, main_ident, current, keeper):
        """sink(stream, data, offset): a cell's output (offset: its first byte's in the stream);
        background(stream, data): output of no cell. Both are called in order under self.lock.
        current() is the running cell (or None); keeper is keeper.Handle (the shared page,
        the hand-over of fresh pipes, the orphans)."""
        self.keeper = keeper
        self.mark = keeper.mark
        self.sink = sink
        self.background = background
        self.current = current
        self.main_ident = main_ident
        self.lock = threading.RLock()
        # Notified when output is read or consumed: the pump waits on it for work, the capture
        # thread for its peeked bytes to be consumed (a socket with bytes in it stays readable).
        self.changed = threading.Condition(self.lock)
        self._pipes = pipes
        # Pipes fds 1 and 2 were taken off (separate_children): read into the background log
        # until their last writer, a child process of an ended cell, closes them.
        self._retired = []
        self._known = frozenset()  # the child processes alive when the pipes were last checked
        self._children = _open_children(os.getpid())  # the executor's (the main thread's)
        self._background_w = {}  # stream -> writing end of a pipe read as background output
        self._popen_patched = False
        # Popens of a running cell's other threads between choosing their fds and forking:
        # the end of the cell waits for them, so none forks onto fds 1/2 after the swap check.
        self._spawning = 0
        self._spawned = threading.Condition(threading.Lock())
        self._reaped = _reaped()
        self._orphans = False  # the keeper had adopted processes at the last check
        # Wakes the capture thread when the set of pipes changes.
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._watch()
        self._raw = _Raw(self, STDOUT)
        self.out = io.TextIOWrapper(
            io.BufferedWriter(self._raw, 1 << 16), encoding="utf-8", errors="backslashreplace",
            line_buffering=True,
        )
        self.stdout = _Out(self, self.out)
        self.stderr = _ErrText(self)
        self.cell_running = threading.Event()
        self._patch_thread_start()
        self.install()
        threading.Thread(target=self._read_fds, name="pythond-capture", daemon=True).start()
        threading.Thread(target=self._flush_loop, name="pythond-flush", daemon=True).start()

    def install(self):
        """(Re)point sys.stdout/sys.stderr at the capture; user code may have replaced them."""
        sys.stdout, sys.stderr = self.stdout, self.stderr
        sys.__stdout__, sys.__stderr__ = self.stdout, self.stderr

    # -- who a write belongs to -------------------------------------------------------
    def _patch_thread_start(self):
        """Every thread remembers the cell it was started in (directly or by its starter)."""
        cls = threading.Thread
        if getattr(cls.start, "_pythond", False):
            return
        original = cls.start
        capture = self

        def start(thread, *args, **kwargs):
            if _get_ident() == capture.main_ident:
                thread._pythond_cell = capture.current()
            else:
                thread._pythond_cell = getattr(threading.current_thread(), "_pythond_cell", None)
            return original(thread, *args, **kwargs)

        start._pythond = True
        cls.start = start

    def is_cell_thread(self):
        """True on the executor, and on a thread started by the cell that runs now."""
        if _get_ident() == self.main_ident:
            return True
        cell = getattr(threading.current_thread(), "_pythond_cell", None)
        return cell is not None and cell is self.current()

    # -- writing ----------------------------------------------------------------------
    def put(self, stream, data):
        """A Python-level write of a cell: after what the pipes hold, into the pipe of stream.
        The pipe is written without the lock held: a full pipe is emptied by the capture thread."""
        if not data:
            return
        with self.lock:
            self.drain()
        _write_all(stream, data)

    def background_write(self, stream, data):
        if data:
            with self.lock:
                self.drain()
                self.background(stream, data)

    def write(self, stream, data):
        """The executor's own writes (a shown value, a traceback) at the end of a cell."""
        self.flush()
        self.put(stream, data)

    def flush(self):
        try:
            self.out.flush()
        except Exception:
            pass

    # -- reading ----------------------------------------------------------------------
    def _watch(self):
        """drain() asks which pipes hold data in one poll(0) instead of failing reads."""
        self._ready = select.poll()
        for p in self._pipes + self._retired:
            self._ready.register(p.fd, select.POLLIN)

    def drain(self):
        """Move whatever the fd pipes hold into the sinks. Caller holds self.lock."""
        ready = self._ready.poll(0)
        if not ready:
            return
        if self._retired:
            self._drain_retired(ready)
        cell = self.current()
        for p in self._pipes:  # in fd order, as before: stdout, then stderr
            if not any(fd == p.fd for fd, _ in ready):
                continue
            while True:
                try:
                    data = p.sock.recv(_CHUNK, p.flags)
                except (BlockingIOError, InterruptedError):
                    break
                if not data:
                    break
                offset = p.peeked
                p.peeked += len(data)
                if not p.peek:
                    p.consumed = p.peeked
                    self.mark.consumed(p.stream, p.consumed, 0)
                if cell is None:
                    self.background(p.stream, data)
                else:
                    self.sink(p.stream, data, offset)
                if len(data) < _CHUNK:
                    break

    def _drain_retired(self, ready):
        """What children of ended cells wrote: background output, taken out at once (it is
        nobody's last words). A pipe at its end (no writer left) is closed."""
        closed = False
        for p in list(self._retired):
            if not any(fd == p.fd for fd, _ in ready):
                continue
            while True:
                try:
                    data = p.sock.recv(_CHUNK)
                except (BlockingIOError, InterruptedError):
                    break
                if not data:
                    self._retired.remove(p)
                    p.sock.close()
                    closed = True
                    break
                self.background(p.stream, data)
                if len(data) < _CHUNK:
                    break
        if closed:
            self._watch()
            self._wake()

    def _wake(self):
        try:
            os.write(self._wake_w, b"w")
        except BlockingIOError:
            pass  # already awake

    # -- child processes ----------------------------------------------------------------
    def background_fd(self, stream):
        """An fd whose bytes are background output: for a process that a thread of no running
        cell starts (it must not inherit fds 1 and 2, which the running cell owns)."""
        with self.lock:
            w = self._background_w.get(stream)
            if w is None:
                pipe, w = Pipe.fresh(stream)
                pipe.flags = 0
                self._background_w[stream] = w
                self._retired.append(pipe)  # read like a retired pipe; never ends (we hold w)
                self._watch()
                self._wake()
            return w.fileno()

    def _patch_popen(self):
        """Once the user has imported subprocess: a Popen from a thread that is not the
        running cell's, inheriting stdout/stderr, writes into background pipes instead.
        (os.system and os.fork from such a thread cannot be redirected: they go where fds
        1 and 2 go.)"""
        subprocess = sys.modules.get("subprocess")
        self._popen_patched = True
        original = getattr(getattr(subprocess, "Popen", None), "_get_handles", None)
        if original is None or getattr(original, "_pythond", False):
            return
        capture = self

        original_execute = subprocess.Popen._execute_child

        def _get_handles(popen, stdin, stdout, stderr):
            # Counted before the check: a cell that ends meanwhile waits until we have forked
            # (then its check sees our child), or we see it ended and take background pipes.
            with capture._spawned:
                capture._spawning += 1
            popen._pythond_spawning = True
            try:
                if not capture.is_cell_thread():
                    if stdout is None:
                        stdout = capture.background_fd(STDOUT)
                    if stderr is None:
                        stderr = capture.background_fd(STDERR)
                return original(popen, stdin, stdout, stderr)
            except BaseException:
                spawned(popen)
                raise

        def spawned(popen):
            if popen.__dict__.pop("_pythond_spawning", False):
                with capture._spawned:
                    capture._spawning -= 1
                    capture._spawned.notify_all()

        def _execute_child(popen, *args, **kwargs):
            try:
                return original_execute(popen, *args, **kwargs)
            finally:
                spawned(popen)

        _get_handles._pythond = True
        subprocess.Popen._get_handles = _get_handles
        subprocess.Popen._execute_child = _execute_child

    def separate_children(self):
        """After a cell: if a child process may hold fds 1 and 2 (one the cell started and
        left running, or orphaned to the keeper), put fresh pipes on them, so that whatever it
        writes later reaches the background log, never the next cell. Cheap when no child is
        new (two preads); a swap costs two socket pairs and one hand-over."""
        if not self._popen_patched and "subprocess" in sys.modules:
            self._patch_popen()
        with self._spawned:  # a cell thread's Popen that chose fds 1/2 forks before we look
            if not self._spawned.wait_for(lambda: self._spawning == 0, timeout=2.0):
                self._spawning = 0  # a Popen that failed between its fds and its fork: not counted on
        if not self._new_children():
            return
        with self.lock:
            self.drain()  # no cell runs: what is there is background output
            self.consume()
            fresh = [Pipe.fresh(s) for s in (STDOUT, STDERR)]
            try:
                # The keeper first: it must hold every pipe a cell's output goes into.
                self.keeper.hand_over([p for p, _ in fresh])
            except OSError:
                for p, w in fresh:
                    p.sock.close()
                    w.close()
                return
            for p, w in fresh:
                self.mark.consumed(p.stream, 0, 0)
                p.install(w)
            for p in self._pipes:
                p.flags = 0
            self._retired += self._pipes
            self._pipes = [p for p, _ in fresh]
            self._watch()
            self._wake()

    def _new_children(self):
        """True if a child process is alive (or unreaped) that was not at the last check.

        A process that holds fds 1 and 2 descends from a child of ours: one alive now (in the
        executor's /proc children file, or a cell thread's), or one reaped since the last check
        (os.system("job &")) whose orphan the keeper has adopted. Reaping shows in
        RUSAGE_CHILDREN (a per-process lock), so the keeper's list is read only then: each
        /proc children read (like waitid) takes a lock every fork on the machine takes too."""
        if self._children is None:
            return False  # no /proc: children are not told apart (not Linux)
        alive = _read_children(self._children)
        if threading.active_count() > _AGENT_THREADS:
            alive |= _user_thread_children()
        reaped = _reaped()
        if reaped != self._reaped or self._orphans:
            self._reaped = reaped
            orphans = self.keeper.orphans()
            self._orphans = bool(orphans)
            alive |= orphans
        if not alive:
            self._known = frozenset()
            return False
        alive = frozenset(alive)
        new = not alive <= self._known
        self._known = alive
        return new

    def unconsumed(self):
        return any(p.peeked != p.consumed for p in self._pipes)

    def consume(self):
        """Take out of the pipes what was read so far: call once it has been written to the
        controller (or kept nowhere else). Caller holds self.lock.

        The keeper must know where its leftover starts even if the interpreter dies inside
        the recv: the page holds (consumed, n) before it and (consumed + n, 0) after it, and
        the socket's own peek offset tells how much of the n the recv took."""
        taken = False
        for p in self._pipes:
            n = p.peeked - p.consumed
            if not n:
                continue
            taken = True
            self.mark.consumed(p.stream, p.consumed, n)
            scratch = bytearray(min(n, _CHUNK))
            left = n
            while left:
                try:
                    got = p.sock.recv_into(scratch, min(left, len(scratch)))
                except InterruptedError:
                    continue
                except BlockingIOError:
                    break  # cannot happen: the bytes were peeked
                if not got:
                    break
                left -= got
            p.consumed = p.peeked
            self.mark.consumed(p.stream, p.consumed, 0)
        if taken:  # else nobody waits for this: no thread woken for nothing after every cell
            self.changed.notify_all()

    def _read_fds(self):
        # poll, not select: fresh pipes made after a cell opened many files have fds >= 1024.
        # Its own poll object, remade when the pipes change (the wake pipe says so).
        waiting, watched = None, None
        while True:
            if waiting is None:
                waiting = select.poll()
                waiting.register(self._wake_r, select.POLLIN)
                with self.lock:
                    watched = self._ready
                    for p in self._pipes + self._retired:
                        waiting.register(p.fd, select.POLLIN)
            try:
                ready = waiting.poll()
            except InterruptedError:
                continue
            with self.lock:
                if any(fd == self._wake_r for fd, _ in ready) or watched is not self._ready:
                    try:
                        os.read(self._wake_r, 64)
                    except BlockingIOError:
                        pass
                    waiting = None  # a closed fd is reported POLLNVAL, never an error
                self.drain()
                while self.unconsumed():
                    self.changed.notify_all()
                    self.changed.wait()

    def _flush_loop(self):
        """While a cell runs: flush stdout every FLUSH_S, and pick its buffering by the rate
        of line flushes (a write syscall per line costs more than print() itself)."""
        out, raw = self.out, self._raw
        while True:
            self.cell_running.wait()
            flushes, size = raw.flushes, raw.bytes
            time.sleep(FLUSH_S)
            try:
                out.flush()  # text without a newline too ("50%\r")
                if out.line_buffering:
                    if raw.flushes - flushes > _BLOCK_ABOVE:
                        out.reconfigure(line_buffering=False)
                elif raw.bytes - size < _LINES_BELOW:
                    out.reconfigure(line_buffering=True)
            except Exception:
                pass

    def cell_started(self):
        self.cell_running.set()
        if not self._popen_patched and "subprocess" in sys.modules:
            self._patch_popen()

    def cell_ended(self):
        """The executor's cell is over: what it wrote goes out now; the next one starts sparse."""
        self.cell_running.clear()
        try:
            if not self.out.line_buffering:
                self.out.reconfigure(line_buffering=True)  # flushes
            else:
                self.out.flush()
        except Exception:
            pass
