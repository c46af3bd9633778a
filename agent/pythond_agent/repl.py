"""The human REPL of a session: a PTY owned by the agent, a screen log, and a line editor.

Created lazily, on the first attach. The PTY slave is the human's terminal: the line editor
(run on the link reader thread, never on the main thread) renders prompts and echo onto it;
while a human cell runs, fds 0/1/2 are the slave (cooked mode), so input(), getpass, colours,
os.get_terminal_size() and child processes see a real terminal. A reader thread drains the
master into a ring (the screen log, replayed to late attachers) and sends it to the
controller as "screen" events while anyone is attached.

Size policy: the latest resize wins (every attach and every resize sets TIOCSWINSZ).
"""
import os
import sys
import threading
import time

MAX_SCREEN = 1 << 20  # the screen log keeps at least this much
MAX_HISTORY = 1000
MAX_INPUT = 1 << 20  # one input request; larger ones are refused
MAX_MIRROR = 256 << 10  # agent-cell output mirrored onto the screen, per cell
PROMPT1 = ">>> "
PROMPT2 = "... "
_COLOR_PROMPT = "\x1b[1;35m%s\x1b[0m"
_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def attach_handlers(session):
    """Agent link ops of the attach feature, added to Session.handlers."""

    def repl():
        if session.repl is None:
            session.repl = HumanRepl(session)
        return session.repl

    def op_attach(header, blobs):
        r = repl()
        if header.get("rows") is not None:
            r.resize(header.get("rows"), header.get("cols"))
        return r.attach(int(header.get("max") or MAX_SCREEN))

    def op_detach(header, blobs):
        if session.repl is not None:
            session.repl.detach()
        return {}, ()

    def op_input(header, blobs):
        data = bytes(blobs[0]) if blobs else b""
        if len(data) > MAX_INPUT:
            raise ValueError("input frame too large (%d bytes, limit %d)" % (len(data), MAX_INPUT))
        return {"detach": repl().feed(data)}, ()

    def op_resize(header, blobs):
        repl().resize(header.get("rows"), header.get("cols"))
        return {}, ()

    return {"attach": op_attach, "detach": op_detach, "input": op_input, "resize": op_resize}


def _history_path(name):
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".pythond", "sessions", name, "repl_history")


class HumanRepl:
    def __init__(self, session):
        import codecs
        import pty
        import termios

        self.s = session
        self.termios = termios
        self.master, self.slave = pty.openpty()
        self.cooked = termios.tcgetattr(self.slave)
        # No flow control: a Ctrl-S from a client must never stop the screen (writers would block).
        self.cooked[0] &= ~(termios.IXON | termios.IXOFF)
        termios.tcsetattr(self.slave, termios.TCSANOW, self.cooked)
        # Keystrokes written to a full tty input queue must be dropped, never block the reader.
        os.set_blocking(self.master, False)
        self.lock = threading.RLock()  # the editor state and writes to the screen
        self.screen_lock = threading.Lock()
        self.screen = bytearray()
        self.offset = 0  # bytes ever read from the master
        self.viewers = 0
        self.viewer_link = None
        self.rows, self.cols = 24, 80
        self.buf = []
        self.pos = 0
        self.block = []  # lines of an unfinished multi-line statement
        self.busy = None  # the human cell queued or running
        self.ahead = b""  # keys that followed an Enter in the same input chunk
        self.pend = b""
        self.dec = codecs.getincrementaldecoder("utf-8")("replace")
        self.last_key = None
        self.after_cr = False
        self.at_bol = True
        self.mirrored = 0
        self.hist_file = _history_path(self.s.name)
        self.history = self._load_history()
        self.hidx = len(self.history)
        self.draft = ""
        self.resize(24, 80)
        threading.Thread(target=self._drain, name="pythond-pty", daemon=True).start()
        py = "%d.%d.%d" % sys.version_info[:3]
        banner = ("Python %s | pythond session %r, shared with the agent\n"
                  "Ctrl-] or Ctrl-D detaches; the session lives on (end it: pysh kill %s)\n" % (py, self.s.name, self.s.name))
        self._out(banner)
        self._prompt()
        # The first attacher's replay should hold the banner and the prompt: wait until the pty
        # gave back all of it (each \n comes back as \r\n), not just its first bytes.
        want = len(banner.encode("utf-8", "replace")) + banner.count("\n") + len((_COLOR_PROMPT % self._prompt_text()).encode())
        deadline = time.time() + 1.0
        while self.offset < want and time.time() < deadline:
            time.sleep(0.002)

    # -- the screen --------------------------------------------------------------------
    def _drain(self):
        import select

        while True:
            try:
                select.select([self.master], [], [])
                data = os.read(self.master, 65536)
            except (InterruptedError, BlockingIOError):
                continue
            except OSError:
                time.sleep(0.05)
                continue
            if not data:
                continue
            with self.screen_lock:
                self.screen += data
                if len(self.screen) > 2 * MAX_SCREEN:
                    del self.screen[: len(self.screen) - MAX_SCREEN]
                self.offset += len(data)
                end = self.offset
            if self.viewers and self.s.link is self.viewer_link:
                self.s.send({"k": "ev", "ev": "screen", "o": end}, [data])

    def attach(self, limit):
        link = self.s.link
        with self.lock:
            if self.viewer_link is not link:
                self.viewer_link, self.viewers = link, 0
            self.viewers += 1
        with self.screen_lock:
            snap = bytes(self.screen[-max(1, min(limit, 2 * MAX_SCREEN)):])
            end = self.offset
        if len(snap) < len(self.screen) or end > len(snap):
            nl = snap.find(b"\n", 0, 4096)  # start the replay at a line boundary
            if nl >= 0:
                snap = snap[nl + 1 :]
        return {"offset": end, "rows": self.rows, "cols": self.cols, "viewers": self.viewers}, [b"\x1b[0m" + snap]

    def detach(self):
        with self.lock:
            self.viewers = max(0, self.viewers - 1)

    def resize(self, rows, cols):
        import fcntl
        import struct

        if not isinstance(rows, int) or not isinstance(cols, int) or not (0 < rows < 10000 and 0 < cols < 10000):
            raise ValueError("invalid size: rows and cols must be integers from 1 to 9999")
        fcntl.ioctl(self.master, self.termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.rows, self.cols = rows, cols

    def _out(self, text):
        """Write to the human's terminal (the slave; \\n becomes \\r\\n). Caller may hold self.lock."""
        data = text.encode("utf-8", "replace") if isinstance(text, str) else text
        if not data:
            return
        self.at_bol = data.endswith(b"\n")
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.slave, view)
            except InterruptedError:
                continue
            except OSError:
                return
            view = view[n:]

    # -- output from elsewhere ------------------------------------------------------------
    def _around_line(self, data):
        """Write data above the prompt line, then redraw the prompt and the line being edited."""
        with self.lock:
            idle = self.busy is None
            if idle:
                self._out(b"\r\x1b[K")
            self._out(data)
            if idle:
                if not self.at_bol:
                    self._out(b"\n")
                self._redraw()

    def background(self, data):
        self._around_line(data)

    def agent_start(self, cell):
        self.mirrored = 0
        lines = cell.code.strip("\n").splitlines() or [""]
        text = "[agent] run: %s\n" % lines[0]
        for line in lines[1:50]:
            text += "[agent]   : %s\n" % line
        if len(lines) > 50:
            text += "[agent]   : ... (%d more lines)\n" % (len(lines) - 50)
        with self.lock:
            if self.busy is None:
                self._out(b"\r\x1b[K")
            elif not self.at_bol:
                self._out(b"\n")
            self._out(text)

    def agent_output(self, cell, data):
        if self.mirrored >= MAX_MIRROR:
            return
        self.mirrored += len(data)
        with self.lock:
            self._out(data)
            if self.mirrored >= MAX_MIRROR:
                self._out("\n[agent] ... more output not shown here (pysh poll)\n")

    def agent_end(self, cell):
        with self.lock:
            if not self.at_bol:
                self._out(b"\n")
            if self.busy is None:
                self._redraw()

    # -- the line editor (reader thread) -------------------------------------------------
    def _prompt_text(self):
        return PROMPT2 if self.block else PROMPT1

    def _prompt(self):
        self._out(_COLOR_PROMPT % self._prompt_text())

    def _redraw(self):
        line = "".join(self.buf)
        back = len(self.buf) - self.pos
        self._out("\r" + _COLOR_PROMPT % self._prompt_text() + line + "\x1b[K" + ("\x1b[%dD" % back if back else ""))

    def _set(self, text):
        self.buf = list(text)
        self.pos = len(self.buf)
        self._redraw()

    def feed(self, data):
        """Keystrokes from an attached client. Returns True when the client should detach."""
        with self.lock:
            if self.busy is not None:
                return self._feed_busy(data)
            detach = False
            for kind, key in self._keys(data):
                if self.busy is not None:  # typed past an Enter in one chunk (a paste): kept for the prompt
                    self.ahead += key.encode("utf-8") if kind == "text" else bytes([key]) if kind == "ctl" else key
                    continue
                if self._key(kind, key):
                    detach = True
                    break
                self.last_key = (kind, key)
            return detach

    def _feed_busy(self, data):
        if isinstance(data, int):
            data = bytes([data])
        if b"\x03" in data:
            data = data.replace(b"\x03", b"")
            self._interrupt()
        view = memoryview(data)
        while view:  # a tty whose input queue is full drops what does not fit (as a terminal does)
            try:
                view = view[os.write(self.master, view) :]
            except InterruptedError:
                continue
            except OSError:
                break
        return False

    def _interrupt(self):
        try:
            self.termios.tcflush(self.slave, self.termios.TCIFLUSH)
        except OSError:
            pass
        self.s.op_int({}, ())

    def _keys(self, data):
        buf = self.pend + data
        self.pend = b""
        i, n = 0, len(buf)
        while i < n:
            b = buf[i]
            if b == 0x1B:
                if i + 1 >= n:
                    self.pend = buf[i:]
                    return
                c = buf[i + 1]
                if c == 0x5B:  # CSI
                    j = i + 2
                    while j < n and not (0x40 <= buf[j] <= 0x7E):
                        j += 1
                    if j >= n:
                        if n - i < 32:
                            self.pend = buf[i:]
                        return
                    yield "esc", bytes(buf[i : j + 1])
                    i = j + 1
                elif c == 0x4F:  # SS3
                    if i + 2 >= n:
                        self.pend = buf[i:]
                        return
                    yield "esc", bytes(buf[i : i + 3])
                    i += 3
                else:
                    yield "esc", bytes(buf[i : i + 2])
                    i += 2
            elif b < 0x20 or b == 0x7F:
                yield "ctl", b
                i += 1
            else:
                j = i
                while j < n and buf[j] >= 0x20 and buf[j] != 0x7F:
                    j += 1
                text = self.dec.decode(bytes(buf[i:j]))
                if text:
                    yield "text", text
                i = j

    def _key(self, kind, key):
        cr = self.after_cr
        self.after_cr = False
        if kind == "text":
            self._insert(key)
        elif kind == "ctl":
            if key == 0x0D or (key == 0x0A and not cr):
                self.after_cr = key == 0x0D
                self._enter()
            elif key == 0x0A:
                pass  # the \n of a \r\n pair
            elif key == 0x04:  # Ctrl-D
                if not self.buf and not self.block:
                    self._out("\r\n")
                    self._redraw()
                    return True
                self._delete()
            elif key == 0x03:
                self._ctrl_c()
            elif key == 0x09:
                self._tab()
            elif key in (0x7F, 0x08):
                if self.pos:
                    del self.buf[self.pos - 1]
                    self.pos -= 1
                    self._redraw()
            elif key == 0x01:
                self.pos = 0
                self._redraw()
            elif key == 0x05:
                self.pos = len(self.buf)
                self._redraw()
            elif key == 0x02:
                self._move(-1)
            elif key == 0x06:
                self._move(1)
            elif key == 0x0B:
                del self.buf[self.pos :]
                self._redraw()
            elif key == 0x15:
                del self.buf[: self.pos]
                self.pos = 0
                self._redraw()
            elif key == 0x17:
                p = self.pos
                while p and self.buf[p - 1] == " ":
                    p -= 1
                while p and self.buf[p - 1] != " ":
                    p -= 1
                del self.buf[p : self.pos]
                self.pos = p
                self._redraw()
            elif key == 0x0C:
                self._out("\x1b[H\x1b[2J")
                self._redraw()
            elif key == 0x10:
                self._hist(-1)
            elif key == 0x0E:
                self._hist(1)
        else:
            seq = key[1:]
            if seq in (b"[A", b"OA"):
                self._hist(-1)
            elif seq in (b"[B", b"OB"):
                self._hist(1)
            elif seq in (b"[C", b"OC"):
                self._move(1)
            elif seq in (b"[D", b"OD"):
                self._move(-1)
            elif seq in (b"[H", b"OH", b"[1~", b"[7~"):
                self.pos = 0
                self._redraw()
            elif seq in (b"[F", b"OF", b"[4~", b"[8~"):
                self.pos = len(self.buf)
                self._redraw()
            elif seq == b"[3~":
                self._delete()
        return False

    def _insert(self, text):
        self.buf[self.pos : self.pos] = list(text)
        self.pos += len(text)
        if self.pos == len(self.buf):
            self._out(text)  # the common case: typing at the end
        else:
            self._redraw()

    def _delete(self):
        if self.pos < len(self.buf):
            del self.buf[self.pos]
            self._redraw()

    def _move(self, d):
        p = min(max(self.pos + d, 0), len(self.buf))
        if p != self.pos:
            self._out("\x1b[C" if p > self.pos else "\x1b[D")
            self.pos = p

    def _hist(self, d):
        if not self.history:
            return
        if self.hidx == len(self.history):
            self.draft = "".join(self.buf)
        i = min(max(self.hidx + d, 0), len(self.history))
        if i == self.hidx:
            return
        self.hidx = i
        self._set(self.draft if i == len(self.history) else self.history[i])

    def _ctrl_c(self):
        if self.buf or self.block:
            self.buf, self.pos, self.block = [], 0, []
            self._out("^C\r\nKeyboardInterrupt\r\n")
            self._prompt()
        elif self.s.current is not None:
            self._interrupt()
        else:
            self._out("\r\nKeyboardInterrupt\r\n")
            self._prompt()

    def _tab(self):
        from pythond_agent.complete import complete

        p = self.pos
        while p and self.buf[p - 1] in _WORD:
            p -= 1
        word = "".join(self.buf[p : self.pos])
        if not word.strip():
            self._insert("    ")
            return
        try:
            matches = complete(self.s.ns, word).get("matches", [])
        except Exception:
            matches = []
        matches = sorted(set(matches))
        if not matches:
            self._out("\x07")
            return
        if len(matches) == 1:
            self._insert(matches[0][len(word) :])
            return
        prefix = os.path.commonprefix(matches)
        if len(prefix) > len(word):
            self._insert(prefix[len(word) :])
        elif self.last_key == ("ctl", 0x09):
            self._out("\r\n" + "  ".join(matches) + "\r\n")
            self._redraw()
        else:
            self._out("\x07")

    def _enter(self):
        import codeop

        line = "".join(self.buf)
        self.pos = len(self.buf)
        self._out("\r\n")
        self.buf, self.pos = [], 0
        if line.strip():
            self._remember(line)
        self.hidx = len(self.history)
        self.draft = ""
        self.block.append(line)
        source = "\n".join(self.block)
        try:
            complete = codeop.compile_command(source, "<stdin>", "single") is not None
        except (SyntaxError, ValueError, OverflowError):
            complete = True
        if not complete:
            self._prompt()
            return
        self.block = []
        if not source.strip():
            self._prompt()
            return
        self._submit(source)

    def _submit(self, source):
        import binascii

        cell = self.s.cells.add(binascii.hexlify(os.urandom(6)).decode(), "run", source, "human")
        self.busy = cell.id
        self.s.queue.put(cell)

    def _load_history(self):
        try:
            with open(self.hist_file, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return []
        return [line.replace("\\n", "\n") for line in lines[-MAX_HISTORY:]]

    def _remember(self, line):
        if self.history and self.history[-1] == line:
            return
        self.history.append(line)
        del self.history[:-MAX_HISTORY]
        try:
            d = os.path.dirname(self.hist_file)
            os.makedirs(d, mode=0o700, exist_ok=True)
            fd = os.open(self.hist_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line.replace("\n", "\\n") + "\n").encode("utf-8", "replace"))
            finally:
                os.close(fd)
        except OSError:
            pass

    # -- a human cell (main thread) ------------------------------------------------------
    def run_cell(self, cell):
        import io

        s = self.s
        cell.state = "running"
        cell.started_at = time.time()
        s.send({"k": "ev", "ev": "start", "c": cell.id})
        with s.capture.lock:
            s.capture.drain()
            s._send_pending()
            s.current = cell
        saved = [os.dup(fd) for fd in (0, 1, 2)]
        old_in = sys.stdin
        for fd in (0, 1, 2):
            os.dup2(self.slave, fd)
        tin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="replace")
        tout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True, write_through=True)
        terr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True, write_through=True)
        sys.stdin, sys.stdout, sys.stderr = tin, tout, terr
        sys.__stdin__ = tin
        try:
            ok, error = self._execute(cell.code)
        finally:
            for f in (tout, terr):
                try:
                    f.flush()
                except Exception:
                    pass
            for fd, old in zip((0, 1, 2), saved):
                os.dup2(old, fd)
                os.close(old)
            sys.stdin = sys.__stdin__ = old_in
            with s.capture.lock:
                s.capture.install()
                s.current = None
        typeahead = self._take_typeahead()
        cell.ok, cell.error, cell.value = ok, error, None
        cell.ended_at = time.time()
        cell.state = "done"
        s.last_activity = cell.ended_at
        done = cell.result()
        done.update(k="ev", ev="done", c=cell.id, code=cell.code)
        s.send(done)
        s.cells.evict()
        with self.lock:
            self.busy = None
            self._prompt()
            ahead, self.ahead = self.ahead + typeahead, b""
            if ahead:
                self.feed(ahead)

    def _take_typeahead(self):
        """Bytes typed during the cell that it did not read: they go back to the editor."""
        termios = self.termios
        try:
            attrs = termios.tcgetattr(self.slave)
            attrs[3] &= ~(termios.ICANON | termios.ECHO)
            attrs[6][termios.VMIN] = 0
            attrs[6][termios.VTIME] = 0
            termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
            data = b""
            while len(data) < MAX_INPUT:
                chunk = os.read(self.slave, 65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            data = b""
        try:
            termios.tcsetattr(self.slave, termios.TCSANOW, self.cooked)
        except OSError:
            pass
        return data

    def _execute(self, source):
        from pythond_agent.executor import describe_exit, user_traceback

        s = self.s
        ex = s.executor
        try:
            try:
                import ast

                flags = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)
                code = compile(source + "\n", "<stdin>", "single", flags, dont_inherit=True)
                ex.in_user_code = True
                result = eval(code, s.ns)
                if code.co_flags & 0x80:
                    ex._event_loop().run_until_complete(result)
            finally:
                ex.in_user_code = False
            return True, None
        except SystemExit as e:
            text = describe_exit(e)
            sys.stderr.write("%s: a shared session does not end from here. Detach: Ctrl-] or Ctrl-D; "
                             "end the session: pysh kill %s\n" % (text, s.name))
            return False, {"type": "SystemExit", "message": text, "traceback": text + "\n"}
        except BaseException as e:
            tb = user_traceback(e)
            try:
                sys.stderr.write(tb)
            except Exception:
                pass
            return False, {"type": type(e).__name__, "message": str(e), "traceback": tb}
