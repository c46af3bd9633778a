"""Output capture for a session agent.

fds 1 and 2 are pipes for the life of the agent, so output from os.write, C code and child
processes is captured like print(). Python-level writes bypass the pipes but first drain them,
so a cell's output keeps the order in which it was written. Every piece of output goes to one
sink under one lock: the running agent cell (stored and streamed), or the background.
"""
import errno
import fcntl
import os
import select
import sys
import threading

from pythond_agent.cells import STDERR, STDOUT

_F_SETPIPE_SZ = 1031
_CHUNK = 1 << 20
_SLICE = 1 << 20  # code points per slice of a big text write


class _Stream:
    """What sys.stdout / sys.stderr and their .buffer share: unbuffered, never a tty, never closed."""

    closed = False

    def __init__(self, capture, stream):
        self._capture = capture
        self._stream = stream

    def flush(self):
        pass

    def fileno(self):
        return self._stream

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False


class _BinaryStream(_Stream):
    def write(self, data):
        self._capture.write(self._stream, bytes(data))
        return len(data)


class TextStream(_Stream):
    """What sys.stdout / sys.stderr are while a session runs: never raises on encoding."""

    encoding = "utf-8"
    errors = "backslashreplace"
    line_buffering = True

    def __init__(self, capture, stream):
        super().__init__(capture, stream)
        self.buffer = _BinaryStream(capture, stream)
        self.name = "<stdout>" if stream == STDOUT else "<stderr>"

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        n = len(text)
        if n <= _SLICE:
            self._capture.write(self._stream, text.encode("utf-8", "backslashreplace"))
            return n
        # A big write goes out in slices: the pump streams the first MiB while the rest is
        # still being encoded and stored, so the first byte leaves ~30 ms sooner for a 50 MB
        # print and the agent's copying overlaps the daemon's and the client's work. Slicing a
        # str at code points changes no output byte (each code point encodes on its own).
        for i in range(0, n, _SLICE):
            self._capture.write(self._stream, text[i : i + _SLICE].encode("utf-8", "backslashreplace"))
        return n

    def writelines(self, lines):
        for line in lines:
            self.write(line)


class Capture:
    def __init__(self, sink):
        """sink(stream, data) receives every piece of output, in order, under self.lock."""
        self.sink = sink
        self.lock = threading.RLock()
        self._pipes = []
        for stream in (STDOUT, STDERR):
            r, w = os.pipe()
            try:
                fcntl.fcntl(w, _F_SETPIPE_SZ, _CHUNK)
            except OSError:
                pass
            os.set_blocking(r, False)
            os.dup2(w, stream)
            os.close(w)
            self._pipes.append((r, stream))
        # drain() asks which pipes hold data in one poll(0) instead of two failing reads.
        self._ready = select.poll()
        for r, _ in self._pipes:
            self._ready.register(r, select.POLLIN)
        self.stdout = TextStream(self, STDOUT)
        self.stderr = TextStream(self, STDERR)
        self.install()
        threading.Thread(target=self._read_fds, name="pythond-capture", daemon=True).start()

    def install(self):
        """(Re)point sys.stdout/sys.stderr at the capture; user code may have replaced them."""
        sys.stdout, sys.stderr = self.stdout, self.stderr
        sys.__stdout__, sys.__stderr__ = self.stdout, self.stderr

    def write(self, stream, data):
        if not data:
            return
        with self.lock:
            self.drain()
            self.sink(stream, data)

    def drain(self):
        """Move whatever the fd pipes hold into the sink. Caller holds self.lock."""
        ready = self._ready.poll(0)
        if not ready:
            return
        for r, stream in self._pipes:  # in fd order, as before: stdout, then stderr
            if not any(fd == r for fd, _ in ready):
                continue
            while True:
                try:
                    data = os.read(r, _CHUNK)
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
                        break
                    raise
                if not data:
                    break
                self.sink(stream, data)
                if len(data) < _CHUNK:
                    break

    def _read_fds(self):
        fds = [r for r, _ in self._pipes]
        while True:
            try:
                select.select(fds, [], [])
            except InterruptedError:
                continue
            with self.lock:
                self.drain()
