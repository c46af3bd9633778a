"""Python controller for pythond tool agents, with rmote's API (standard library only).

    proto = await Protocol.from_subprocess(process)   # process: asyncio subprocess, stdin/stdout pipes
    async with proto:
        host = await proto(SystemInfo.hostname)

Tools are synced lazily on their first call through a connection. A class defined in an
importable module travels as that module's source (keyed by name + content hash, so edits
re-sync); an inline class (defined in a script or inside a function) travels as its own source
plus the definitions it uses, never the script's other statements. Dataclass and enum results come back as
the caller's classes when they can be found locally.
"""
import asyncio
import builtins
import collections
import hashlib
import logging
import os
import sys

from pythond_client.bootstrap import READY_LINE, agent_payload, bootstrap_bytes, load_agent_module, stage1
from pythond_client.inline_source import inline_source
from pythond_client.stream import StreamConsumer
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


def _config(config):
    cfg = {"mode": "tools"}
    cfg.update(config or {})
    return cfg


class _StderrTail:
    """Reads a process's stderr to its end, keeping the last lines (for start errors)."""

    def __init__(self, reader, keep=10):
        self.lines = collections.deque(maxlen=keep)
        self._task = asyncio.get_running_loop().create_task(self._read(reader))

    async def _read(self, reader):
        while True:
            line = await reader.readline()  # asyncio's limit (64 KiB) bounds a line
            if not line:
                return
            text = line.decode("utf-8", "replace").strip()
            while text.startswith(">>>") or text.startswith("..."):
                text = text[3:].strip()  # the REPL's prompts before the agent took over
            if text:
                self.lines.append(text[:2000])

    def text(self):
        return " | ".join(self.lines)

    def stop(self):
        self._task.cancel()


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
    if "<locals>" in cls.__qualname__ or cls.__module__ == "__main__" or not file:
        # Inline: the class and what it uses, never the rest of the script (inline_source.py).
        src, pre, srcfile = inline_source(cls, _agent_names())
        name = MAIN_ALIAS if cls.__module__ == "__main__" else cls.__module__
        digest = hashlib.sha256(("%s\0%s" % (pre, src)).encode()).hexdigest()[:16]
        key = "%s@%s" % (cls.__name__, digest)
        header = {"key": key, "kind": "class", "module": name, "src": src}
        if pre:
            header["pre"] = pre
        if srcfile:
            header["file"] = os.path.abspath(srcfile)
        qual = cls.__name__
    else:
        with open(file, encoding="utf-8") as f:
            src = f.read()
        key = "%s@%s" % (cls.__module__, hashlib.sha256(src.encode()).hexdigest()[:16])
        header = {"key": key, "kind": "module", "module": cls.__module__, "src": src, "file": os.path.abspath(file)}
        qual = cls.__qualname__
    up = _uploads[cls] = (_Upload(key, header), qual)
    return up


def _agent_names():
    """Controller objects that exist on the agent under the rmote names (Tool is loaded here from
    the agent's files under another module name)."""
    return {
        id(Tool): ("rmote.protocol", "Tool"),
        id(inline): ("rmote.protocol", "inline"),
        id(process): ("rmote.process", "process"),
        id(async_process): ("rmote.process", "async_process"),
    }


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



def _call_request(fn, args, kwargs):
    """The tool a call needs synced, and the call's request fields and attachments."""
    cls, name = _tool_target(fn)
    up, qual = _upload_for(cls)
    blobs = []
    fields = {"t": up.key, "c": qual, "m": name}
    if args:
        fields["a"] = _codec.encode(list(args), blobs)
    if kwargs:
        fields["kw"] = _codec.encode(kwargs, blobs)
    return up, fields, blobs


class Protocol:
    """One connection to a tool agent over a subprocess's stdin/stdout."""

    def __init__(self, process_, reader, writer, stderr_tail=None):
        self.process = process_
        self._reader = reader
        self._writer = writer
        self._next = 1
        self._pending = {}
        self._streams = {}  # request id -> StreamConsumer
        self._synced = {}
        self._closed = None
        self._stderr = stderr_tail
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def spawn(cls, *argv, config=None, timeout=30.0, env=None, cwd=None):
        """Start python3 through argv (default: a local "python3") and bootstrap an agent in it.

        Like the TypeScript SDK's Remote.spawn: `-qui` is appended (a bare local interpreter runs
        stage 1 as `-u -c`, with no REPL at all); the process's stderr is read here, never left
        on the caller's terminal, and its last lines explain a failed start. The connection owns
        the process: close() ends it."""
        argv = list(argv) or ["python3"]
        cfg = _config(config)
        if len(argv) == 1:
            args, stage1_in_argv = argv + ["-u", "-c", stage1(len(agent_payload())).decode().strip()], True
        else:
            args, stage1_in_argv = argv + ["-qui"], False
        process_ = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=cwd
        )
        return await cls._start(process_, bootstrap_bytes(cfg, stage1_in_argv), timeout)

    @classmethod
    async def from_subprocess(cls, process_, config=None, timeout=30.0):
        """Bootstrap an agent in `process_` (asyncio subprocess with stdin and stdout pipes,
        started as `python3 -qui`). Its REPL writes a first `>>> ` prompt to its stderr before
        anything can be sent: start it with stderr=PIPE (read here, and quoted in start errors)
        to keep that off the caller's stderr, or use Protocol.spawn."""
        return await cls._start(process_, bootstrap_bytes(_config(config)), timeout)

    @classmethod
    async def _start(cls, process_, bootstrap, timeout):
        tail = _StderrTail(process_.stderr) if process_.stderr is not None else None
        seen = []
        size = 0

        async def wait_ready():
            nonlocal size
            process_.stdin.write(bootstrap)
            await process_.stdin.drain()
            while True:
                line = await process_.stdout.readline()
                if not line:
                    code = await process_.wait()
                    said = " | ".join(x.strip() for x in seen[-10:] if x.strip())
                    transport = tail.text() if tail is not None else ""
                    raise ConnectionError(
                        "agent failed to start: process exited with status %s%s%s"
                        % (code, (". It said: " + said) if said else "", (". Its transport said: " + transport) if transport else "")
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
            if tail is not None:
                tail.stop()
            raise
        return cls(process_, process_.stdout, process_.stdin, tail)

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
        elif k == "it":
            consumer = self._streams.get(h.get("i"))
            if consumer is not None:
                consumer.push(h.get("v"), blobs)
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
        up, fields, blobs = _call_request(fn, args, kwargs)
        await self._ensure_synced(up)
        return await self._request("call", fields, blobs)

    call = __call__

    def stream(self, fn, *args, **kwargs):
        """Iterate an async generator method: `async for x in proto.stream(MyTool.gen, ...)`.

        The request goes out with the first item asked for. Flow control is the TypeScript
        SDK's: the agent sends at most a window ahead of what has been consumed. Leaving the
        loop early (break, aclose) cancels the remote generator, and its finally blocks run."""
        return self._stream(fn, args, kwargs)

    async def _stream(self, fn, args, kwargs):
        up, fields, blobs = _call_request(fn, args, kwargs)
        await self._ensure_synced(up)
        if self._closed is not None:
            raise self._closed
        cid = self._next
        self._next += 1
        consumer = StreamConsumer(
            lambda enc, b: _codec.decode(enc, b, _resolve_type),
            lambda n, size: self._closed is None and self._send({"k": "credit", "i": cid, "n": n, "s": size}),
        )
        done = asyncio.get_running_loop().create_future()
        done.add_done_callback(lambda _f: consumer.wake())
        self._streams[cid] = consumer
        self._pending[cid] = done
        fields.update(k="req", i=cid, op="stream")
        ended = False
        try:
            self._send(fields, blobs)
            while True:
                got, item = consumer.take()
                if got:
                    yield item
                    continue
                if consumer.error is not None:
                    raise consumer.error
                if done.done():
                    ended = True
                    done.result()  # the remote generator's exception, after its items
                    return
                await consumer.wait()
        finally:
            self._streams.pop(cid, None)
            if not ended:
                self._pending.pop(cid, None)
                if not done.done():
                    done.cancel()
                elif not done.cancelled():
                    done.exception()  # seen: the caller left, or an item failed, first
                if self._closed is None:
                    self._send({"k": "cancel", "i": cid, "quiet": True})  # the generator's finally runs there

    async def close(self, timeout=5.0):
        if self._closed is None:
            self._closed = ConnectionError("connection closed")
        if self._stderr is not None:
            self._stderr.stop()
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
