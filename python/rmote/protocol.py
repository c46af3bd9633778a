"""Python controller for pythond tool agents, with rmote's API (standard library only).

    proto = await Protocol.from_subprocess(process)   # process: asyncio subprocess, stdin/stdout pipes
    async with proto:
        host = await proto(SystemInfo.hostname)

Tools are synced lazily on their first call through a connection. A class defined in a module
file travels as that module's source (keyed by name + content hash, so edits re-sync); a class
defined inside a function travels as its own source. Dataclass and enum results come back as
the caller's classes when they can be found locally.
"""
import asyncio
import builtins
import hashlib
import inspect
import logging
import os
import sys
import textwrap

from pythond_client.bootstrap import READY_LINE, bootstrap_bytes, load_agent_module
from rmote.process import process, async_process  # noqa: F401  (re-exported like rmote's)

_codec = load_agent_module("pythond_agent.codec")
_link = load_agent_module("pythond_agent.link")

MAX_FRAME = 256 << 20
MAX_NOISE = 64 << 10
MAIN_ALIAS = "__pythond_main__"


# The same Tool rules as on the agent (no __init__, methods tagged with their class, @inline).
_toolbase = load_agent_module("pythond_agent.toolbase")
ToolMeta, Tool, inline = _toolbase.ToolMeta, _toolbase.Tool, _toolbase.inline


class RemoteError(Exception):
    """A remote exception whose class is not available locally."""

    def __init__(self, type_name, message, traceback_text="", details=None):
        super().__init__("%s: %s" % (type_name, message))
        self.type = type_name
        self.message = message
        self.remote_traceback = traceback_text
        self.details = details or {}


class RemoteExited(ConnectionError):
    """The remote process ended; every pending and later call fails with this."""


def _tool_target(fn):
    """(class the caller referenced, method name) for a reference like Name.method."""
    self_ = getattr(fn, "__self__", None)
    if isinstance(self_, type) and issubclass(self_, Tool):
        return self_, fn.__name__
    func = getattr(fn, "__func__", fn)
    cls = getattr(func, "__tool_class__", None)
    if cls is None:
        raise ValueError("Only methods of Tool classes can be called")
    return cls, func.__name__


class _Upload:
    __slots__ = ("key", "header")

    def __init__(self, key, header):
        self.key = key
        self.header = header


_uploads = {}


def _upload_for(cls):
    up = _uploads.get(cls)
    if up is not None:
        return up
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None)
    if "<locals>" in cls.__qualname__ or not file:
        src = textwrap.dedent(inspect.getsource(cls))
        key = "%s@%s" % (cls.__name__, hashlib.sha256(src.encode()).hexdigest()[:16])
        header = {"key": key, "kind": "class", "module": cls.__name__, "src": src}
        qual = cls.__name__
    else:
        with open(file, encoding="utf-8") as f:
            src = f.read()
        name = MAIN_ALIAS if cls.__module__ == "__main__" else cls.__module__
        key = "%s@%s" % (name, hashlib.sha256(src.encode()).hexdigest()[:16])
        header = {"key": key, "kind": "module", "module": name, "src": src, "file": os.path.abspath(file)}
        qual = cls.__qualname__
    up = _uploads[cls] = (_Upload(key, header), qual)
    return up


def _resolve_type(name):
    """Find a local class for "module.Qual.Name" (the agent's alias for __main__ maps back)."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        mod_name = ".".join(parts[:i])
        if mod_name == MAIN_ALIAS:
            mod_name = "__main__"
        mod = sys.modules.get(mod_name)
        if mod is None:
            continue
        obj = mod
        for p in parts[i:]:
            obj = getattr(obj, p, None)
            if obj is None:
                break
        if isinstance(obj, type):
            return obj
    return None


def _raise_remote(e):
    tname = str(e.get("type", "Error"))
    message = str(e.get("message", ""))
    tb = str(e.get("traceback", ""))
    cls = getattr(builtins, tname, None) if "." not in tname else _resolve_type(tname)
    if isinstance(cls, type) and issubclass(cls, BaseException):
        args = e.get("args")
        try:
            exc = cls(*args) if isinstance(args, list) else cls(message)
        except Exception:
            exc = None
        if exc is not None:
            exc.remote_traceback = tb
            raise exc
    raise RemoteError(tname, message, tb, e)


class Protocol:
    """One connection to a tool agent over a subprocess's stdin/stdout."""

    def __init__(self, process_, reader, writer):
        self.process = process_
        self._reader = reader
        self._writer = writer
        self._next = 1
        self._pending = {}
        self._synced = {}
        self._closed = None
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def from_subprocess(cls, process_, config=None, timeout=30.0):
        """Bootstrap an agent in `process_` (asyncio subprocess with stdin and stdout pipes)."""
        cfg = {"mode": "tools"}
        cfg.update(config or {})
        process_.stdin.write(bootstrap_bytes(cfg))
        await process_.stdin.drain()
        seen = []
        size = 0

        async def wait_ready():
            nonlocal size
            while True:
                line = await process_.stdout.readline()
                if not line:
                    code = await process_.wait()
                    said = " | ".join(x.strip() for x in seen[-10:] if x.strip())
                    raise ConnectionError(
                        "agent failed to start: process exited with status %s%s" % (code, (". It said: " + said) if said else "")
                    )
                if line.rstrip(b"\r\n") == READY_LINE:
                    return
                size += len(line)
                seen.append(line.decode("utf-8", "replace")[:2000])
                if size > MAX_NOISE:
                    del seen[:-10]

        try:
            await asyncio.wait_for(wait_ready(), timeout)
        except BaseException:
            if process_.returncode is None:
                process_.kill()
            raise
        return cls(process_, process_.stdout, process_.stdin)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    def _send(self, header, blobs=()):
        for part in _link.encode(header, list(blobs)):
            self._writer.write(part)

    async def _read_loop(self):
        err = None
        try:
            while True:
                try:
                    head = await self._reader.readexactly(4)
                except asyncio.IncompleteReadError as e:
                    if e.partial:
                        raise ConnectionError("stream closed inside a frame")
                    break
                n = int.from_bytes(head, "big")
                if n > MAX_FRAME:
                    raise ConnectionError("frame of %d bytes exceeds limit of %d" % (n, MAX_FRAME))
                body = await self._reader.readexactly(n)
                header, blobs = _link.decode(body)
                self._dispatch(header, blobs)
        except Exception as e:  # noqa: B902 - any read failure ends the connection
            err = e
        if err is None:
            code = await self.process.wait()
            err = RemoteExited("remote exited with status %s" % code)
        self._fail_all(err)

    def _fail_all(self, err):
        if self._closed is None:
            self._closed = err
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(self._closed)
        self._pending.clear()

    def _dispatch(self, h, blobs):
        k = h.get("k")
        if k in ("res", "err"):
            fut = self._pending.pop(h.get("i"), None)
            if fut is None or fut.done():
                return  # late reply: its caller gave up
            if k == "res":
                try:
                    fut.set_result(_codec.decode(h.get("r"), blobs, _resolve_type))
                except Exception as e:  # a bad value fails this call only
                    fut.set_exception(e)
            else:
                try:
                    _raise_remote(h.get("e") or {})
                except BaseException as e:  # noqa: B902
                    fut.set_exception(e)
        elif k == "log":
            r = h.get("r") or []
            try:
                logger = logging.getLogger("rmote.remote.%s" % r[0])
                if logger.isEnabledFor(r[1]):
                    logger.log(r[1], "%s%s", r[2], ("\n" + r[3]) if r[3] else "")
            except Exception:
                pass
        elif k == "exit":
            self._fail_all(RemoteExited("remote exited with status %s" % h.get("status")))

    async def _request(self, op, fields, blobs=()):
        if self._closed is not None:
            raise self._closed
        cid = self._next
        self._next += 1
        fut = asyncio.get_running_loop().create_future()
        self._pending[cid] = fut
        fields.update(k="req", i=cid, op=op)
        self._send(fields, blobs)
        if self._writer.transport.get_write_buffer_size() > (1 << 20):
            await self._writer.drain()
        try:
            return await fut
        except asyncio.CancelledError:
            self._pending.pop(cid, None)
            if self._closed is None:
                self._send({"k": "cancel", "i": cid, "quiet": True})
            raise

    async def _ensure_synced(self, up):
        state = self._synced.get(up.key)
        if state is True:
            return
        if state is None:
            state = self._synced[up.key] = asyncio.ensure_future(self._request("sync", dict(up.header)))
        try:
            await asyncio.shield(state)
        except BaseException:
            if self._synced.get(up.key) is state:
                del self._synced[up.key]  # a failed or cancelled upload is retried
            raise
        self._synced[up.key] = True

    async def __call__(self, fn, *args, **kwargs):
        """Run `fn` (e.g. `MyTool.method`) on the remote and return its result."""
        cls, name = _tool_target(fn)
        up, qual = _upload_for(cls)
        blobs = []
        fields = {"t": up.key, "c": qual, "m": name}
        if args:
            fields["a"] = _codec.encode(list(args), blobs)
        if kwargs:
            fields["kw"] = _codec.encode(kwargs, blobs)
        await self._ensure_synced(up)
        return await self._request("call", fields, blobs)

    call = __call__

    async def close(self, timeout=5.0):
        if self._closed is None:
            self._closed = ConnectionError("connection closed")
        try:
            self._writer.close()
        except Exception:
            pass
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()
        self._task.cancel()
        self._fail_all(self._closed)
