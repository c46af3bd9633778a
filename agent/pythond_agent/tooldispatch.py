"""Tool agent: dispatches calls of lazily synced Tool classes (loaded by toolload.py) over the
framed link (docs/PROTOCOL.md, "Tool protocol").

The pool's threads take turns reading frames (toolpool.py); synchronous methods run on them,
async methods and async generators on an event loop thread that starts on first use (asyncio
costs ~10 MB, so an agent that never awaits never imports it). Replies are sent by whoever
finishes the call (a batch of quick calls sends its replies in groups); the link's combining
writer coalesces concurrent ones. Control messages (cancel, credit) are handled by the reader at
once and never queue behind tool work.
"""
import os
import threading
import time

from pythond_agent import callctx, codec
from pythond_agent.link import Link, LinkError
from pythond_agent.toolload import AGEN, INLINE, SYNC, ToolModules
from pythond_agent.toolpool import CallInterrupted, ToolPool

MAX_HANDLES = 1 << 16  # call handles per connection (the TypeScript controller uses at most 4,096)
SLOW_CALL_S = 0.001  # a call of a quick batch that took this long hands the rest to another thread
REPLY_GROUP = 16  # replies of a quick batch leave in groups of this many
# Frames handled per turn of the reader: a burst already read runs in slices of this many, so a
# reader running quick calls reads again (cancels, credits) within ~1 ms, never after a whole
# 64 KiB read of calls, and the watchdog sees no stall where there is only a long queue.
READ_BATCH = 128


def _enlarge_pipe(fd):
    """Bigger pipe buffers mean fewer syscalls and wake-ups for bulk frames (Linux only)."""
    try:
        import fcntl

        fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ
    except (ImportError, OSError):
        pass


def _enlarge_socket_send(fd):
    """A larger send buffer where our output is a socket (Node's child stdio is a socketpair):
    a caller that makes thousands of calls in one turn reads no reply before its loop ends, and
    replies that do not fit would stop this agent working on the calls it holds. Best effort:
    the kernel caps the size (net.core.wmem_max)."""
    try:
        import _socket
    except ImportError:
        return
    dup = os.dup(fd)
    try:
        s = _socket.socket(fileno=dup)
    except OSError:  # not a socket (a pipe: ssh, docker exec)
        os.close(dup)
        return
    try:
        s.setsockopt(_socket.SOL_SOCKET, _socket.SO_SNDBUF, 1 << 20)  # as large as the pipes we ask for
    except OSError:
        pass
    finally:
        s.close()


class Call:
    __slots__ = ("id", "thread", "task", "pgids", "label", "stream", "interrupted")

    def __init__(self, cid, label):
        self.id = cid
        self.thread = None
        self.interrupted = False  # an async CallInterrupted was aimed at self.thread
        self.task = None
        self.pgids = set()
        self.label = label
        self.stream = None


class DeadlineExceeded(Exception):
    pass


class Cancelled(Exception):
    pass


def main(pin, pout, config):
    # fd 2 is still the transport's stderr; nothing we rely on may write there any more.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 2)
    os.close(null)
    _enlarge_pipe(pin)
    _enlarge_pipe(pout)
    _enlarge_socket_send(pout)
    # Every call decodes (copies) its arguments before the next frame is read: reuse is safe.
    link = Link(pin, pout, max_frame=int(config.get("maxFrame", 256 << 20)), reuse_buffer=True)
    agent = ToolAgent(link, config)
    from pythond_agent import codecache

    codecache.report(link, config)
    return agent.serve()


class ToolAgent:
    def __init__(self, link, config):
        self.link = link
        self.send = link.send
        self.pool = ToolPool(config.get("pool") or min(32, (os.cpu_count() or 1) + 4), self.read_batch, self.run_quick)
        self.exit_status = 0
        self.config = config
        self.report_code_after_sync = True
        self.tools = ToolModules()
        self.methods = {}  # (key, qualname, method) -> Method
        self.handles = {}  # call handle -> (key, qualname, method), bound by a call naming both
        self._replies = threading.local()  # .frames: replies held while a quick batch runs
        self.calls = {}  # id -> Call, while the caller has not been answered
        self.interrupt_lock = threading.Lock()
        self._loop = None
        self._watcher = None
        self._host = None
        self._install_log_forwarding()

    # ---- main loop ----

    def serve(self):
        self.pool.start()
        self.pool.finished.wait()
        if self.pool.error is not None:
            e = self.pool.error
            self.send({"k": "fatal", "e": {"type": type(e).__name__, "message": "agent reader failed: %s" % (e,)}})
            self.exit_status = 6
        self.link.wait_written()  # a frame queued behind another thread's write goes out first
        return self.exit_status

    def read_batch(self):
        """The reading thread's turn (toolpool.py): handle the next frames; return the
        synchronous calls among them as (quick, other), lists of (fn, args), or None when the
        link has ended."""
        try:
            frames = self.link.read_batch(READ_BATCH)
        except LinkError as e:
            self.send({"k": "fatal", "e": {"type": "LinkError", "message": str(e)}})
            self.exit_status = 5
            return None
        if not frames:
            return None
        quick, other = [], []
        calls = self.calls
        for header, blobs in frames:
            k = header.get("k")
            if k == "req":
                op = header.get("op")
                cid = header.get("i")
                if op == "call":
                    job = self._call(cid, header, blobs)  # (run, (call, method, args, kwargs))
                    if job is not None:
                        (quick if job[1][1].quick else other).append(job)
                elif op == "stream":
                    self._call(cid, header, blobs, stream=True)
                elif op == "sync":
                    self._sync(cid, header)
                elif op == "ping":
                    self.send({"k": "res", "i": cid, "r": None})
                else:
                    self._reply_error(cid, ValueError("unknown operation %r" % (op,)))
            elif k == "cancel":
                call = calls.pop(header.get("i"), None)
                if call is not None:
                    self._interrupt(call, Cancelled("cancelled by the caller"), header.get("quiet"))
            elif k == "credit":
                self._credit(header)
        return quick, other

    # ---- sync (lazy upload) ----

    def _sync(self, cid, h):
        try:
            if self.tools.sync(h):
                if self.report_code_after_sync:
                    self.report_code_after_sync = False
                    from pythond_agent import codecache

                    codecache.report(self.link, self.config)  # what the first tool imported
        except BaseException as e:  # noqa: B902 - a bad upload fails this request only
            self._reply_error(cid, e)
            return
        self.send({"k": "res", "i": cid, "r": None})

    # ---- calls ----

    def _call(self, cid, h, blobs, stream=False):
        """Start a call; a synchronous one is returned as (fn, args) for the pool to run."""
        handle = h.get("h")
        if handle is None or "t" in h:
            names = h.get("t"), h.get("c"), h.get("m")
        else:  # the names this connection bound to the handle in an earlier call
            names = self.handles.get(handle) if type(handle) is int else None
        key, qual, meth = names or (None, None, None)
        try:
            method = self.methods.get(names)
        except TypeError:  # an unhashable name: refused below
            method = None
        label = method.label if method is not None else "%s.%s" % (qual, meth) if names else None
        call = Call(cid, label)
        self.calls[cid] = call
        try:
            if handle is not None and (type(handle) is not int or names is None or names is not self.handles.get(handle)):
                self._bind(handle, names)
            if method is None:
                if not (isinstance(key, str) and isinstance(qual, str) and isinstance(meth, str)):
                    raise ValueError("Invalid method name")
                method = self.methods[(key, qual, meth)] = self.tools.resolve(key, qual, meth)
            fn, kind = method.fn, method.kind
            a = h.get("a")
            args = codec.decode(a, blobs) if a else []
            kw = h.get("kw")
            kwargs = codec.decode(kw, blobs) if kw else {}
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ValueError("arguments must be a list and keywords an object")
            if (kind == AGEN) != stream:
                raise TypeError("%s %s" % (label, "is not an async generator; use call" if stream else "is an async generator; use stream"))
        except BaseException as e:  # noqa: B902
            self._fail(cid, e, label)
            return
        dl = h.get("dl")
        if dl is not None:
            self._arm_deadline(cid, dl)
        if kind == SYNC:
            return self._run_sync, (call, method, args, kwargs)
        if kind == INLINE:
            self._run_sync(call, method, args, kwargs)
        else:
            loop = self._ensure_loop()
            loop.call_soon_threadsafe(self._start_task, call, fn, args, kwargs, kind)
        return None

    def _bind(self, handle, names):
        """Bind a call handle to the method names it stands for (a call that names both)."""
        if type(handle) is not int or not 0 < handle <= MAX_HANDLES:
            raise ValueError("a call handle must be an integer from 1 to %d, got %r" % (MAX_HANDLES, handle))
        if names is None:
            raise ValueError("call handle %d is not bound on this connection (its first call names the method)" % handle)
        if not all(isinstance(n, str) for n in names):
            raise ValueError("Invalid method name")
        self.handles[handle] = names

    def run_quick(self, jobs):
        """Run a batch of quick calls in order on this thread; their replies leave REPLY_GROUP
        at a time (the caller works on one group while we run the next). Should one of them be
        slow this time (a quick method that blocked, or this thread not scheduled), the rest of
        the batch goes on in order on another thread, as one job: a batch never fans out into
        the pool call by call, whatever its length (a burst of 20,000 quick calls costs what
        calls in flight cost), and a method that really blocks peels off one thread per call."""
        held = self._replies.frames = []
        clock = time.perf_counter
        try:
            before = clock()
            for i, (fn, args) in enumerate(jobs):
                fn(*args)
                if len(held) >= REPLY_GROUP:
                    self.link.send_many(held)
                    del held[:]
                after = clock()
                if after - before > SLOW_CALL_S and i + 1 < len(jobs):
                    self.pool.submit(self.run_quick, jobs[i + 1 :])
                    break
                before = after
        finally:
            self._replies.frames = None
            self.link.send_many(held)

    def _send_reply(self, header, blobs=()):
        held = getattr(self._replies, "frames", None)
        if held is None:
            self.send(header, blobs)
        else:
            held.append((header, blobs))

    def _run_sync(self, call, method, args, kwargs):
        # Under the lock a cancel takes to find the call's thread: a call cancelled before it
        # started never runs (it would start work, e.g. a child process, nobody then stops).
        with self.interrupt_lock:
            if call.id not in self.calls:
                return
            call.thread = threading.get_ident()
        token = callctx.current.set(call)
        start = time.perf_counter()
        try:
            try:
                result = method.fn(*args, **kwargs)
            finally:
                self._leave(call)
        except SystemExit as e:
            self._exit(e)
        except CallInterrupted:
            pass  # cancelled or past its deadline: the caller was already told
        except BaseException as e:  # noqa: B902 - report everything, keep the worker
            self._fail(call.id, e, call.label)
        else:
            method.ran(time.perf_counter() - start)
            self._finish(call, result)
        finally:
            callctx.current.reset(token)

    def _leave(self, call):
        """The call's work is over on this thread: no interrupt may reach the thread any more.
        One sent just as the work ended may still be pending (it is raised at the thread's next
        function call): withdrawn here, or raised inside this frame, where _run_sync catches
        it, and never in what the thread does next (reading the link, a batch's next call)."""
        with self.interrupt_lock:
            call.thread = None
            if call.interrupted:
                import ctypes

                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)

    def _finish(self, call, result):
        if self.calls.pop(call.id, None) is None:
            return  # cancelled or expired meanwhile; the caller already has its answer
        blobs = []
        try:
            enc = None if result is None else codec.encode(result, blobs)
        except Exception as e:
            self._reply_error(call.id, e, call.label, "result of %s could not be encoded: %s" % (call.label, e))
            return
        self._send_reply({"k": "res", "i": call.id, "r": enc}, blobs)

    def _fail(self, cid, exc, label=None):
        if self.calls.pop(cid, None) is None and label is not None:
            return
        self._reply_error(cid, exc, label)

    def _reply_error(self, cid, exc, label=None, message=None):
        self._send_reply({"k": "err", "i": cid, "e": self.describe(exc, label, message)})

    def describe(self, exc, label=None, message=None):
        t = type(exc)
        tname = t.__qualname__ if t.__module__ in ("builtins", "__main__") else "%s.%s" % (t.__module__, t.__qualname__)
        if isinstance(exc, DeadlineExceeded):
            tname = "DeadlineExceeded"
        elif isinstance(exc, Cancelled):
            tname = "Cancelled"
        import traceback

        e = {
            "type": tname,
            "message": message or str(exc),
            "traceback": _user_traceback(traceback, exc),
            "host": self.host(),
        }
        if label:
            e["tool"], _, e["method"] = label.rpartition(".")
        try:
            blobs = []
            args = codec.encode(list(exc.args), blobs)
            if not blobs:  # error headers carry no attachments
                e["args"] = args
        except Exception:
            pass
        for attr in ("errno", "filename", "returncode"):
            v = getattr(exc, attr, None)
            if isinstance(v, (int, str)):
                e[attr] = v
        return e

    def host(self):
        if self._host is None:
            import socket

            self._host = socket.gethostname()
        return self._host

    def _exit(self, e):
        code = e.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        held = getattr(self._replies, "frames", None)
        if held:
            self.link.send_many(held)  # replies of the calls before it in a quick batch
        self.send({"k": "exit", "status": status})
        self.link.wait_written()  # another thread may be the one writing our frame
        os._exit(status)

    # ---- cancellation and deadlines ----

    def _interrupt(self, call, reason, quiet=False):
        """The call was claimed (popped): tell the caller, then stop the work best-effort."""
        if not quiet:
            self._reply_error(call.id, reason, call.label)
        callctx.kill_process_groups(call)
        if call.task is not None:
            self._loop.call_soon_threadsafe(call.task.cancel)
            return
        with self.interrupt_lock:
            tid = call.thread
            if tid is not None and tid != threading.get_ident():
                try:
                    import ctypes

                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(CallInterrupted))
                    call.interrupted = True
                except Exception:
                    pass  # no ctypes: the work finishes and its result is dropped

    def _arm_deadline(self, cid, dl):
        if not isinstance(dl, (int, float)) or not dl > 0:
            call = self.calls.pop(cid, None)
            if call is not None:
                self._reply_error(cid, ValueError("deadline must be a positive number of milliseconds"))
            return
        if self._watcher is None:
            from pythond_agent.deadlines import DeadlineWatcher

            self._watcher = DeadlineWatcher(self._expire)
        self._watcher.add(dl / 1000.0, cid)

    def _expire(self, cid):
        call = self.calls.pop(cid, None)
        if call is not None:
            self._interrupt(call, DeadlineExceeded("%s exceeded its deadline" % call.label))

    # ---- async methods and streams ----

    def _ensure_loop(self):
        if self._loop is None:
            import asyncio

            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="pythond-loop", daemon=True).start()
            self._loop = loop
        return self._loop

    def _start_task(self, call, fn, args, kwargs, kind):
        if call.id not in self.calls:
            return  # cancelled before it started
        coro = self._run_stream(call, fn, args, kwargs) if kind == AGEN else self._run_async(call, fn, args, kwargs)
        call.task = self._loop.create_task(coro)

    async def _run_async(self, call, fn, args, kwargs):
        import asyncio

        callctx.current.set(call)
        try:
            result = await fn(*args, **kwargs)
        except SystemExit as e:
            self._exit(e)
        except asyncio.CancelledError:
            self._fail(call.id, Cancelled("cancelled"), call.label)
        except BaseException as e:  # noqa: B902
            self._fail(call.id, e, call.label)
        else:
            self._finish(call, result)

    async def _run_stream(self, call, fn, args, kwargs):
        import asyncio
        from pythond_agent.streams import StreamSender

        callctx.current.set(call)
        sender = call.stream = StreamSender(self, call, asyncio.Event())
        try:
            async for item in fn(*args, **kwargs):
                if call.id not in self.calls:
                    break
                if not sender.offer(item):
                    await sender.put(item)
            sender.flush()
        except SystemExit as e:
            self._exit(e)
        except asyncio.CancelledError:
            self._fail(call.id, Cancelled("cancelled"), call.label)
            return
        except BaseException as e:  # noqa: B902
            sender.flush()
            self._fail(call.id, e, call.label)
            return
        self._finish(call, None)

    def _credit(self, h):
        call = self.calls.get(h.get("i"))
        if call is None or call.stream is None:
            return
        n, size = h.get("n"), h.get("s")
        if isinstance(n, int) and isinstance(size, int) and n >= 0 and size >= 0:
            self._loop.call_soon_threadsafe(call.stream.grant, n, size)

    # ---- logging ----

    def _install_log_forwarding(self):
        from pythond_agent.logforward import install_when_imported

        install_when_imported(self.send)


_AGENT_FILES = "<pythond-agent:"


def _user_traceback(traceback, exc):
    """The caller's traceback without the agent's frames (dispatch, thread pool, event loop),
    in the exception and in its chained causes. An error raised inside the agent itself (no
    frame of the tool's) keeps every frame: that is a bug of ours to see in full."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    seen = set()
    todo = [te]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        mine = [f for f in e.stack if not f.filename.startswith(_AGENT_FILES)]
        if mine:
            e.stack = traceback.StackSummary.from_list(mine)
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
    return "".join(te.format())
