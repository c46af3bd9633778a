"""A session agent: a persistent namespace behind a private Unix socket.

The agent outlives its controller: the daemon that started it, or any later one, connects to
the 0600 socket and becomes the controller by proving it holds the session's secret (an HMAC
of the nonce in our hello, op "auth"); only such a proof replaces the controller, so a stray
connection to the socket never unseats the daemon.
Threads: main = the executor (cells run one at a time, in order); one reader per controller
link answers control requests at once; an accept thread; the capture and flush threads; the pump.
Its parent process is the keeper (keeper.py), which reports the last words if it dies.
"""
import os
import queue
import signal
import socket
import sys
import threading
import time

from pythond_agent.background import BackgroundLog
from pythond_agent.capture import Capture, open_pipes
from pythond_agent.cells import STDERR, STDOUT, CellStore
from pythond_agent.executor import Executor, late_interrupt, make_namespace, public_names
from pythond_agent.finish import finish_cell
from pythond_agent.introspect import Introspector
import pythond_agent.link as frames
from pythond_agent.link import Link, LinkError
from pythond_agent.resend import EventLog

PROTOCOL_VERSION = 1
DEFERRED = object()  # a handler's result when it answers later (exec with "wait")
# How often an idle agent checks that its socket file is still there to be adopted through.
ORPHAN_CHECK_S = float(os.environ.get("PYTHOND_ORPHAN_CHECK", "30"))


class Session:
    def __init__(self, config, server, pipes, keeper):
        self.name = config["name"]
        self.config = config
        self.server = server
        self.socket_path = config["socket"]
        # The daemon's per-session secret (sent over the bootstrap pipe, never argv or env).
        secret = config.pop("secret", None)
        self.secret = bytes.fromhex(secret) if secret else None
        self.socket_ino = os.stat(self.socket_path).st_ino
        self.max_output = int(config.get("max_output", 64 << 20))
        self.started = time.time()
        self.last_activity = self.started
        self.cells = CellStore(int(config.get("retain_bytes", 256 << 20)))
        # SimpleQueue: put and get in C, one lock, no Condition: the hand-over of each cell from
        # the reader thread to the executor costs a few µs instead of ~10 (PERFORMANCE.md).
        self.queue = queue.SimpleQueue()
        self.replies = {}  # cell id -> (link, request id) of an exec that waits for the cell's end
        self.link = None
        self.link_lock = threading.Lock()
        self.unlinked_at = time.time()  # since when no controller holds the link (idle.py)
        # Events are numbered and kept until acknowledged, for a controller that comes back.
        bound = os.environ.get("PYTHOND_RESEND_BYTES")  # for a host short of memory (and tests)
        self.events = EventLog(int(bound) if bound and bound.isdigit() else int(config.get("resend_bytes", 16 << 20)), lambda: self.link)
        self.current = None  # the agent cell now running, if any
        self.ns = make_namespace()
        self.executor = Executor(self.ns)
        self.pending = []  # output waiting for the pump: [cell_id, stream, bytes, offset]
        self.background = BackgroundLog(int(config.get("background_bytes", 1 << 20)))
        self.mark = keeper.mark  # keeper.CellMark: the running cell, for the keeper's report
        self.main_thread = threading.get_ident()
        self.capture = Capture(self._sink, self.background_output, pipes, self.main_thread, lambda: self.current, keeper)
        self.pump_wake = self.capture.changed
        self.handlers = {
            "exec": self.op_exec, "status": self.op_status, "vars": self.op_vars,
            "complete": self.op_complete, "poll": self.op_poll, "cells": self.op_cells,
            "info": self.op_info, "int": self.op_int, "kill": self.op_kill, "adopt": self.op_info,
            "claim": self.op_claim, "cancel": self.op_cancel, "output": self.op_output,
        }
        # Ops that answer later through reply_to (link, request id) instead of returning.
        self.deferring = (self.op_exec, self.op_vars, self.op_complete)
        self.introspector = Introspector()
        self._build_parts()  # fork cells, rich outputs, display()
        from pythond_agent import nostdin

        nostdin.install(self)  # input() in an agent cell says there is no stdin
        self.repl = None  # the human REPL (repl.py), imported and created on the first attach
        for op in ("attach", "detach", "input", "resize"):
            self.handlers[op] = lambda header, blobs, op=op: self._repl_op(op, header, blobs)

    # -- output ----------------------------------------------------------------------
    def _sink(self, stream, data, offset):
        cell = self.current
        if cell is None or cell.origin == "human":
            self.background_output(stream, data)
            return
        if self.repl is not None:
            self.repl.agent_output(cell, data)
        kept = cell.add_output(stream, data, self.max_output)
        if kept:
            self.pending.append((cell.id, stream, kept, offset))
            self.pump_wake.notify_all()

    def background_output(self, stream, data):
        """Output of no cell (threads and children of ended cells, anything between cells):
        kept in the background log and shown on the human's screen. Caller holds the lock."""
        self.background.add(stream, data)
        if self.repl is not None:
            self.repl.background(data)

    def _send_pending(self):
        """Send queued output events, then take their bytes out of the capture pipes: until
        they are written, the keeper can still hand them over. Caller holds the capture lock,
        which keeps the order. "o" is the offset of the frame's first byte in its stream."""
        pending, self.pending = self.pending, []
        for cell_id, stream, data, offset in pending:
            for i in range(0, len(data), 1 << 20):
                self.send(frames.event("out", c=cell_id, s=stream, o=offset + i), [data[i : i + (1 << 20)]])
        link = self.link
        if pending and link is not None:
            link.wait_written()
        self.capture.consume()

    def _pump(self):
        with self.capture.lock:
            while True:
                while not self.pending and not self.capture.unconsumed():
                    self.pump_wake.wait()
                self._send_pending()

    # -- controller link ---------------------------------------------------------------
    def send(self, header, blobs=()):
        self.events.send(header, blobs)

    def hello(self):
        return {
            "k": "hello", "v": PROTOCOL_VERSION, "name": self.name, "pid": os.getpid(),
            "python": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
            "cwd": os.getcwd(), "started": self.started, "socket": self.socket_path,
            "resume": 1,  # numbered events, "ack" and auth's "since" (resend.py)
        }

    def adopt(self, conn):
        """A peer connected: greet it with a fresh nonce; it becomes the controller once it proves
        it holds our secret (without one, as agents started before secrets, with its first frame)."""
        fd = conn.detach()
        link = Link(fd, fd)
        nonce = os.urandom(16).hex()
        hello = self.hello()
        if self.secret is not None:
            hello.update(nonce=nonce, auth="hmac-sha256")
        link.send(hello)
        threading.Thread(target=self._read, args=(link, nonce), name="pythond-link", daemon=True).start()

    def _proves_secret(self, nonce, mac):
        from pythond_agent.macs import compare_digest, hmac_sha256_hex  # not hmac: no OpenSSL

        expected = hmac_sha256_hex(self.secret, nonce.encode("ascii"))
        try:
            return compare_digest(expected, mac)  # constant time
        except TypeError:  # not a str of ASCII
            return False

    def _take_control(self, link, since=None):
        olds = []

        def switch():
            with self.link_lock:
                olds.append(self.link)
                self.link = link
                self.unlinked_at = None
            return link

        last = self.events.take_over(switch, since)  # what it missed first, then anything new
        old = olds[0]
        if old is not None and old is not link:
            old.send({"k": "ev", "ev": "replaced"})  # tell the old controller why it loses us
            _hang_up(old)
        return last

    def _accept(self):
        self.server.settimeout(ORPHAN_CHECK_S)
        while True:
            try:
                conn, _ = self.server.accept()
            except socket.timeout:
                if not self._socket_is_ours():
                    self.shutdown()  # no daemon can ever find us again: do not live on as an orphan
                continue
            except OSError:
                time.sleep(0.05)
                continue
            conn.settimeout(None)
            self.adopt(conn)

    def _socket_is_ours(self):
        try:
            return os.stat(self.socket_path).st_ino == self.socket_ino
        except OSError:
            return False

    def _read(self, link, nonce):
        authed = False
        try:
            for header, blobs in link.frames():
                if not authed and self.secret is not None:
                    if header.get("op") != "auth" or not self._proves_secret(nonce, header.get("mac")):
                        link.send(frames.error(header.get("i"), "AuthError", (
                            "this socket belongs to a pythond daemon's session; only a peer that proves "
                            "the session's secret (op auth) may use it")))
                        break
                    authed = True
                    last = self._take_control(link, header.get("since"))
                    link.send({"k": "res", "i": header.get("i"), "r": {"q": last}})
                    continue
                if not authed:
                    authed = True  # no secret: an agent of an older daemon's protocol
                    self._take_control(link)
                if self.link is not link:
                    break  # a newer controller proved the secret: this one is done
                if header.get("k") == "ack":
                    self.events.ack(header.get("q"))
                    continue
                self.dispatch(link, header, blobs)
        except (LinkError, OSError):
            pass
        with self.link_lock:
            if self.link is link:
                self.link = None
                self.unlinked_at = time.time()
        link.close()

    def dispatch(self, link, header, blobs):
        rid = header.get("i")
        handler = self.handlers.get(header.get("op"))
        try:
            if handler is None:
                raise ValueError("unknown op: %r" % (header.get("op"),))
            if handler in self.deferring:
                result, out_blobs = handler(header, blobs, (link, rid))
            else:
                result, out_blobs = handler(header, blobs)
            if result is not DEFERRED:
                link.send(frames.result(rid, result), out_blobs)
        except Exception as e:
            link.send(frames.error(rid, type(e).__name__, str(e)))

    # -- ops (answered on the reader thread, never behind a running cell) ---------------
    def op_exec(self, header, blobs, reply_to=None):
        code = bytes(blobs[0]).decode("utf-8", "surrogateescape") if blobs else ""
        mode = header.get("mode", "run")
        wait = bool(header.get("wait"))
        if header["cell"] in self.cells.cells:
            raise ValueError("cell id %r is already in use" % (header["cell"],))
        if wait and mode == "fork":
            raise ValueError("a fork cell cannot be waited for: poll it")
        cell = self.cells.add(header["cell"], mode, code, header.get("origin", "agent"))
        if header.get("stdin") and len(blobs) > 1:  # what the caller passed as the cell's stdin
            cell.stdin = bytes(blobs[1]).decode("utf-8", "surrogateescape")
        if wait:
            # The reply is the cell's done record, sent when it ends (finish.py): one frame
            # per cell instead of an acknowledgement and an event.
            self.replies[cell.id] = reply_to
            self.queue.put(cell)
            return DEFERRED, ()
        if mode == "fork":
            if self.forks is None:
                del self.cells.cells[cell.id]
                raise ValueError("fork not supported on this platform (no fork())")
            self.forks.start(cell)
            return {"cell_id": cell.id, "seq": cell.seq, "queued": 0}, ()
        self.queue.put(cell)
        return {"cell_id": cell.id, "seq": cell.seq, "queued": self.queue.qsize()}, ()

    def _repl_op(self, op, header, blobs):
        from pythond_agent.repl import attach_handlers

        self.handlers.update(attach_handlers(self))
        return self.handlers[op](header, blobs)

    def op_status(self, header, blobs):
        running = [c.id for c in self.cells.cells.values() if c.state == "running"]
        queued = [c.id for c in self.cells.cells.values() if c.state == "queued"]
        return {
            "state": "running" if running else "idle", "running": running, "queued": queued,
            "vars": len(public_names(self.ns)), "cells": len(self.cells.cells),
            "evicted": self.cells.evicted, "pid": os.getpid(), "last_activity": self.last_activity,
            "memory": _rss_bytes(), "cwd": _cwd(),
        }, ()

    def op_vars(self, header, blobs, reply_to):
        if not header.get("reprs"):
            # Names alone run no user code (public_names takes exact str keys of a dict): answer
            # here, without the worker thread that reprs need (~150 µs of a round trip).
            return {"vars": public_names(self.ns)}, ()

        def names():
            found = public_names(self.ns)
            if not header.get("reprs"):
                return {"vars": found}
            from pythond_agent.shortrepr import short_reprs

            return {"vars": found, "reprs": short_reprs(self.ns, found)}

        return self._introspect("vars", names, header, reply_to)

    def op_complete(self, header, blobs, reply_to):
        from pythond_agent.complete import complete

        text = str(header.get("text", ""))
        return self._introspect("completion of %r" % text[:80], lambda: complete(self.ns, text), header, reply_to)

    def _introspect(self, what, fn, header, reply_to):
        """Run fn (which may run user code) off this reader thread, with a deadline (introspect.py)."""
        link, rid = reply_to

        def reply(value, failure):
            if failure is None:
                link.send(frames.result(rid, value))
            else:
                link.send(frames.error(rid, type(failure).__name__, str(failure)))

        self.introspector.run(what, fn, reply, header.get("timeout"))
        return DEFERRED, ()

    def op_poll(self, header, blobs):
        cid = header.get("cell")
        cell = self.cells.cells.get(cid) if cid else self.cells.latest()
        if cell is None:
            if cid and cid in self.cells.evicted_ids:
                return {"cell_id": cid, "state": "evicted"}, ()
            return ({"cell_id": cid, "state": "unknown"} if cid else {"state": "idle"}), ()
        with self.capture.lock:
            result = cell.result()
            result["streams"] = [c[0] for c in cell.chunks]
            blobs = [bytes(c[1]) for c in cell.chunks]
        return result, blobs

    def op_cells(self, header, blobs):
        with self.capture.lock:
            background = self.background.summary()
        cells = [dict(c.summary(), title=c.title()) for c in self.cells.cells.values()]
        return {"cells": cells, "evicted": self.cells.evicted,
                "background": background}, ()

    def op_output(self, header, blobs):
        """The background log after byte offset "since" (what belongs to no cell)."""
        since = header.get("since", 0)
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            raise ValueError('"since" must be a byte offset (an integer >= 0)')
        with self.capture.lock:
            self.capture.drain()
            return self.background.since(since)

    def op_info(self, header, blobs):
        return self.hello(), ()

    def op_claim(self, header, blobs):
        """The daemon's warm spare (src/daemon/spare.ts) becomes the named session it hands out.

        The spare was started with default settings and has run no cell, so only its name (and
        what derives from it) changes; its start time becomes the claim time (the session's age).
        """
        self.name = self.config["name"] = str(header["name"])
        if header.get("images_dir"):
            self.config["images_dir"] = str(header["images_dir"])
            if getattr(self, "rich", None) is not None:
                self.rich.dir = self.config["images_dir"]  # rich.Rich keeps its own copy
        self.started = self.last_activity = time.time()
        return self.hello(), ()

    def op_cancel(self, header, blobs):
        """Drop a queued cell before it runs (a running one takes int; a fork, int as well)."""
        cell = self.cells.cells.get(header.get("cell"))
        if cell is None:
            raise ValueError("no cell %r in this session" % (header.get("cell"),))
        with self.capture.lock:  # run_cell takes a cell out of "queued" under this lock
            if cell.state != "queued" or cell.mode == "fork":
                raise ValueError("cell %s is %s, not queued%s" % (
                    cell.id, cell.state, "; interrupt it with int" if cell.state == "running" else ""))
            # Final at once: poll says "cancelled" and a waiting run gets its answer now;
            # run_cell skips the cell when it comes out of the queue.
            note = "Cancelled: cancelled before it ran\n"
            # Like a traceback, the verdict is the cell's stderr output (what run and poll print).
            self.send(frames.event("out", c=cell.id, s=STDERR), [cell.add_output(STDERR, note.encode(), self.max_output)])
            error = {"type": "Cancelled", "message": "cancelled before it ran", "traceback": note}
            finish_cell(self, cell, False, None, error, state="cancelled")
        return {"cell_id": cell.id, "cancelled": True}, ()

    def _build_parts(self):
        """Fork cells (forks.py, where the OS can fork) and rich outputs (rich.py), once."""
        from pythond_agent.forks import ForkRunner

        self.forks = ForkRunner(self) if hasattr(os, "fork") else None
        directory = self.config.get("images_dir") or os.path.join(
            os.path.expanduser("~"), ".pythond", "sessions", self.name, "images"
        )
        retain = os.environ.get("PYTHOND_RETAIN_BYTES")  # per-session cap on kept cell output
        if retain and retain.isdigit():
            self.cells.retain_bytes = int(retain)
        from pythond_agent import rich as rich_outputs

        self.rich = rich_outputs.Rich(lambda: self.current, directory)
        self.executor.rich = self.rich.shown
        import builtins

        if not hasattr(builtins, "display"):
            builtins.display = self.rich.display
        rich_outputs.headless_matplotlib()
        rich_outputs.show_on_pyplot(self.rich)

    def op_int(self, header, blobs):
        from pythond_agent.interrupt import interrupt

        return interrupt(self), ()

    def op_kill(self, header, blobs):
        if self.config.get("log"):
            from pythond_agent.detach import log_line

            log_line(self.config["log"], "ended: killed by its daemon (pysh kill)")
        self.shutdown()
        return {}, ()

    def shutdown(self):
        if getattr(self, "forks", None) is not None:
            self.forks.kill_all()  # forks have their own process groups: end them too
        if self._socket_is_ours():
            try:
                os.unlink(self.socket_path)
            except OSError:
                pass
        os._exit(0)

    # -- the executor (main thread) -----------------------------------------------------
    def serve(self):
        while True:
            try:
                cell = self.queue.get()
                self.run_cell(cell)
            except KeyboardInterrupt:
                continue  # an interrupt that arrived between cells

    def run_cell(self, cell):
        if cell.origin == "human" and self.repl is not None:
            try:
                return self.repl.run_cell(cell)
            finally:
                self.capture.separate_children()
        with self.capture.lock:  # op_cancel ends queued cells under this lock
            if cell.state == "cancelled":
                return  # already reported by op_cancel
            self.capture.drain()  # what came before the cell is not the cell's
            cell.state = "running"
            cell.started_at = time.time()
            self.capture.install()
            self.current = cell
        self.mark.set(cell.id)
        self.capture.cell_started()
        # No "start" event here: the daemon does not use it, and one frame less per cell is one
        # write and one daemon wake-up less on the run round trip (docs/PERFORMANCE.md).
        if self.repl is not None:
            self.repl.agent_start(cell)
        stdin = cell.stdin
        if stdin is not None:
            import io

            agent_stdin, sys.stdin = sys.stdin, io.StringIO(stdin)
        try:
            ok, value, error = self.executor.run(cell.code, "<cell-%d>" % cell.seq)
        except KeyboardInterrupt:
            ok, value, error = False, None, late_interrupt()
        finally:
            if stdin is not None:
                sys.stdin = agent_stdin
        self.capture.cell_ended()
        if value is not None:
            self.capture.write(STDOUT, (value + "\n").encode("utf-8", "backslashreplace"))
        if error is not None:
            self.capture.write(STDERR, error["traceback"].encode("utf-8", "backslashreplace"))
        with self.capture.lock:
            self.capture.drain()
            self._send_pending()
            self.current = None
            # Before the reply, not after: work right after the reply's write delays the
            # daemon it wakes (docs/PERFORMANCE.md), while this check costs ~2 µs.
            self.capture.separate_children()  # a child the cell left must not write into the next
            self.capture.install()
            finish_cell(self, cell, ok, value, error)
        self.mark.clear()
        if self.repl is not None:
            self.repl.agent_end(cell)


def _hang_up(link):
    """End a link whose reader thread is blocked reading it: shutdown wakes that reader (with
    EOF, and the peer with it), which then closes the fd itself. Closing the fd from here would
    wake neither, and would free the fd's number for reuse under the reader's feet."""
    try:
        s = socket.socket(fileno=os.dup(link.rfd))
    except OSError:
        return
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()


def _rss_bytes():
    # os.open/os.read, not open(): a text file object costs ~18 µs here, a third of a status
    # request (and `ls` asks every session's agent).
    try:
        fd = os.open("/proc/self/statm", os.O_RDONLY)
        try:
            data = os.read(fd, 256)
        finally:
            os.close(fd)
        return int(data.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _cwd():
    """The working directory cells see now (relative paths of pysh put/get start there)."""
    try:
        return os.getcwd()
    except OSError:  # removed under us
        return None


def main(pin, pout, config):
    boot = Link(pin, pout)
    try:
        server = _listen(config["socket"])
        if config.get("cwd"):
            os.chdir(config["cwd"])
        pipes = open_pipes()
        from pythond_agent import keeper

        secret = bytes.fromhex(config["secret"]) if config.get("secret") else None
        handle = keeper.fork(pipes, server, config["socket"], (pin, pout), secret)  # returns in the child
        session = Session(config, server, pipes, handle)
    except BaseException as e:  # tell the daemon why, instead of a bare EOF
        import traceback

        boot.send({"k": "fatal", "type": type(e).__name__, "message": str(e), "traceback": traceback.format_exc()})
        return 1
    from pythond_agent import codecache

    codecache.report(boot, config)
    boot.send(session.hello())
    boot.close()
    threading.Thread(target=session._accept, name="pythond-accept", daemon=True).start()
    threading.Thread(target=session._pump, name="pythond-pump", daemon=True).start()
    if config.get("idle_ttl"):
        from pythond_agent import idle

        idle.watch(session, float(config["idle_ttl"]), config.get("log"))
    session.serve()


def _listen(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        server.bind(path)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    server.listen(8)
    return server
