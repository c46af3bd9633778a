"""Framed link: the byte-stream protocol shared by sessions and tools.

frame := u32be N, then N bytes of body
body  := u32be H, H bytes of JSON header, then the attachments (N - 4 - H bytes)
The header lists attachment lengths in "b"; attachments carry bytes raw (no base64).
See docs/PROTOCOL.md.
"""
import collections
import os
import struct
import threading

_PREFIX = struct.Struct(">II")
_U32 = struct.Struct(">I")


def _fast_json():
    """dumps/loads for frame headers straight from the C accelerator _json: json.dumps/loads
    spend more time in their Python wrappers than in C (~2 µs of ~3 µs per frame), and the json
    package imports re and enum (~7 ms at a tool agent's start). Errors, and a Python without
    _json, go through the json package."""
    try:
        import _json
    except ImportError:
        import json

        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode, json.loads

    def unserialisable(o):
        raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)

    class Context:  # what _json's scanner reads from a json.JSONDecoder
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.__getitem__
        memo = {}

    scan = _json.make_scanner(Context())
    # markers=None: no cycle check; headers are built by us (codec.py bounds their depth).
    encode = _json.make_encoder(None, unserialisable, _json.encode_basestring, None, ":", ",", False, False, True)

    def dumps(obj):
        return "".join(encode(obj, 0))

    def loads(data):
        text = str(data, "utf-8")
        try:
            obj, end = scan(text, 0)
            if end == len(text):
                return obj
        except Exception:  # StopIteration, or an error _json reports badly without json loaded
            pass
        import json  # bad or unusual input (leading whitespace): the full parser decides

        return json.loads(text)

    return dumps, loads


_DUMPS, _LOADS = _fast_json()
loads = _LOADS  # for boot.py's config frame
_IOV_MAX = 512
_HIGH_WATER = 16 << 20
# Reads stay below malloc's mmap threshold (a 1 MiB os.read costs an mmap + munmap per call);
# frames larger than that are read straight into a buffer of their own size.
_READ_SIZE = 64 << 10
_DIRECT_READ = 64 << 10
_REUSE_MAX = 16 << 20
# read_batch(max_frames) takes in what has arrived, up to about this much held unparsed: enough
# for a burst of tens of thousands of calls, so the sender never finds the socket full.
_READ_AHEAD = 4 << 20


class LinkError(Exception):
    """The byte stream broke framing or closed; the link is unusable."""


# The headers of what an agent answers and tells (docs/PROTOCOL.md, the agent link): a request's
# result or error, matched by its id, and an event. Every file that sends one builds it here.

def result(rid, r):
    return {"k": "res", "i": rid, "r": r}


def error(rid, type_name, message):
    return {"k": "err", "i": rid, "e": {"type": type_name, "message": message}}


def event(ev, **fields):
    return {"k": "ev", "ev": ev, **fields}


def encode(header, blobs=()):
    if not blobs:  # most frames (calls, replies): one part
        h = _DUMPS(header).encode("utf-8", "backslashreplace")
        return [_PREFIX.pack(4 + len(h), len(h)) + h]
    header["b"] = lens = [len(b) for b in blobs]
    h = _DUMPS(header).encode("utf-8", "backslashreplace")
    return [_PREFIX.pack(4 + len(h) + sum(lens), len(h)) + h, *blobs]


def decode(body):
    """Split one frame body into (header, [attachments as memoryviews])."""
    if len(body) < 4:
        raise LinkError("frame shorter than its header length")
    (hlen,) = _U32.unpack_from(body, 0)
    if 4 + hlen > len(body):
        raise LinkError("header length beyond frame")
    try:
        header = _LOADS(body[4 : 4 + hlen])
    except ValueError as e:
        raise LinkError("header is not JSON: %s" % e) from None
    if not isinstance(header, dict):
        raise LinkError("header is not an object")
    blobs = []
    lens = header.get("b")
    if lens:
        view = memoryview(body)
        pos = 4 + hlen
        for n in lens:
            if not isinstance(n, int) or n < 0 or pos + n > len(body):
                raise LinkError("attachment lengths do not match the frame")
            blobs.append(view[pos : pos + n])
            pos += n
        if pos != len(body):
            raise LinkError("attachment lengths do not match the frame")
    elif 4 + hlen != len(body):
        raise LinkError("unlisted bytes after the header")
    return header, blobs


def _writev_all(fd, parts):
    """Write every byte of parts, coping with partial writes and IOV_MAX."""
    i = 0
    while i < len(parts):
        batch = parts[i : i + _IOV_MAX]
        n = os.writev(fd, batch)
        total = sum(len(p) for p in batch)
        if n == total:
            i += len(batch)
            continue
        # Partial write: drop what went out and retry the remainder.
        rest = []
        for p in batch:
            if n >= len(p):
                n -= len(p)
                continue
            rest.append(memoryview(p)[n:] if n else p)
            n = 0
        parts = rest + list(parts[i + len(batch) :])
        i = 0


class Link:
    """A frame stream over one read fd and one write fd (may be the same socket).

    send() is thread-safe and combining: the first caller becomes the writer and
    flushes frames queued by others meanwhile, so bursts leave in few syscalls.
    """

    def __init__(self, rfd, wfd, max_frame=256 << 20, reuse_buffer=False):
        """reuse_buffer: large frames are read into one buffer kept for the next; only for a
        reader that is done with a frame's attachments before it reads the next frame."""
        self.rfd = rfd
        self.reuse_buffer = reuse_buffer
        self._reusable = None
        self.wfd = wfd
        self.max_frame = max_frame
        self.closed = False
        self._lock = threading.Lock()
        self._drained = threading.Condition(self._lock)
        self._queue = []
        self._queued = 0
        self._writing = False
        self._rbuf = b""  # bytes read but not yet framed, from _rpos on
        self._rpos = 0
        self._ahead = collections.deque()  # chunks read ahead, after _rbuf (_read_ahead)
        self._ahead_bytes = 0
        self._poll = None  # for _read_ahead

    def send(self, header, blobs=()):
        return self._write(encode(header, blobs))

    def send_many(self, messages):
        """Send [(header, blobs)] together (one write when nothing else is being written)."""
        parts = []
        for header, blobs in messages:
            parts.extend(encode(header, blobs))
        return self._write(parts) if parts else not self.closed

    def _write(self, parts):
        size = sum(map(len, parts))
        with self._lock:
            if self.closed:
                return False
            self._queue.extend(parts)
            self._queued += size
            if self._writing:
                while self._writing and self._queued > _HIGH_WATER and not self.closed:
                    self._drained.wait()
                return not self.closed
            self._writing = True
        try:
            while True:
                with self._lock:
                    batch = self._queue
                    if not batch:
                        self._writing = False
                        self._drained.notify_all()
                        return True
                    self._queue = []
                    self._queued = 0
                    self._drained.notify_all()
                _writev_all(self.wfd, batch)
        except OSError:
            with self._lock:
                self.closed = True
                self._writing = False
                self._queue = []
                self._drained.notify_all()
            return False

    def frames(self):
        """Yield (header, blobs) until EOF; raise LinkError on garbage."""
        while True:
            batch = self.read_batch()
            if not batch:
                return
            yield from batch

    def read_batch(self, max_frames=0):
        """Block until at least one whole frame has arrived; return the whole frames read so far
        (at most max_frames of them, if given; the rest wait for the next call, which then needs
        no read) as [(header, blobs)], or [] at EOF. Raise LinkError on garbage.

        One thread at a time may read (the tool agent passes the reading role between threads).
        """
        out = []
        limit = max_frames or -1
        while True:
            buf, pos = self._rbuf, self._rpos
            while len(buf) - pos >= 4 and len(out) != limit:
                (n,) = _U32.unpack_from(buf, pos)
                if n > self.max_frame:
                    raise LinkError("frame of %d bytes exceeds limit of %d" % (n, self.max_frame))
                if len(buf) - pos - 4 < n:
                    break
                body = buf[pos + 4 : pos + 4 + n]
                pos += 4 + n
                out.append(decode(body))
            self._rbuf, self._rpos = buf, pos
            if out:
                if max_frames and self._ahead_bytes < _READ_AHEAD:
                    self._read_ahead()
                return out
            rest = len(buf) - pos
            if rest >= 4:
                (n,) = _U32.unpack_from(buf, pos)
                if n > _DIRECT_READ:
                    return [decode(self._read_large(n, buf, pos, rest))]
            if self._ahead:
                chunk = self._ahead.popleft()
                self._ahead_bytes -= len(chunk)
            else:
                chunk = os.read(self.rfd, _READ_SIZE)
                if not chunk:
                    if rest:
                        raise LinkError("stream closed inside a frame")
                    return []
            self._rbuf = buf[pos:] + chunk if rest else chunk
            self._rpos = 0

    def _read_large(self, n, buf, pos, rest):
        """The body of a large frame whose start is at buf[pos:]: what was read ahead, then the
        remainder read straight into a buffer of its size."""
        body = self._large_buffer(n)
        have = rest - 4
        body[:have] = buf[pos + 4 :]
        self._rbuf, self._rpos = b"", 0
        while have < n and self._ahead:
            chunk = self._ahead.popleft()
            self._ahead_bytes -= len(chunk)
            k = min(len(chunk), n - have)
            body[have : have + k] = chunk if k == len(chunk) else memoryview(chunk)[:k]
            have += k
            if k < len(chunk):  # the next frames begin in this chunk
                self._rbuf, self._rpos = chunk, k
        view = body
        while have < n:
            got = os.readv(self.rfd, [view[have:]])
            if not got:
                raise LinkError("stream closed inside a frame")
            have += got
        return body

    def _read_ahead(self):
        """Take in what has already arrived, without waiting, up to _READ_AHEAD held. A sender
        that makes many calls in one go (a caller's loop over thousands of calls: Node can write
        only while the socket has room, and cannot run its event loop to write the rest before
        the loop ends) then finds room all the time, and we have the whole burst to work on
        instead of one socket buffer's worth."""
        if self._poll is None:
            import select

            self._poll = select.poll()
            self._poll.register(self.rfd, select.POLLIN)
        while self._ahead_bytes < _READ_AHEAD and self._poll.poll(0):
            chunk = os.read(self.rfd, _READ_SIZE)
            if not chunk:  # EOF is seen by a later read_batch, after the frames held
                return
            self._ahead.append(chunk)
            self._ahead_bytes += len(chunk)

    def _large_buffer(self, n):
        """A buffer for one large frame. With reuse_buffer the same memory serves frame after
        frame: a fresh 8 MiB buffer costs ~4 ms of page faults here, more than the copy."""
        if not self.reuse_buffer or n > _REUSE_MAX:
            return memoryview(bytearray(n))
        if self._reusable is None or len(self._reusable) < n:
            self._reusable = bytearray(max(n, 2 * len(self._reusable or b"")))
        return memoryview(self._reusable)[:n]

    def wait_written(self):
        """Block until frames queued by any thread are written: before the process exits."""
        with self._lock:
            while self._writing and not self.closed:
                self._drained.wait()

    def close(self):
        with self._lock:
            self.closed = True
            self._drained.notify_all()
        for fd in {self.rfd, self.wfd}:
            try:
                os.close(fd)
            except OSError:
                pass
