"""The human REPL of a session (`pysh attach`): its terminal, its line editor, and the session.

Created lazily, on the first attach. terminal.py owns the PTY (the slave is the human's
terminal) and the screen log; lineedit.py is the line editor, run on the link reader thread
(never on the main thread), rendering prompts and echo onto the slave. This module is the glue:
the link ops, a human statement as a cell on the session's executor (while it runs, fds 0/1/2
are the slave in cooked mode, so input(), getpass, colours, os.get_terminal_size() and child
processes see a real terminal), and agent cells and background output shown on the screen.
"""
import os
import sys
import time

from pythond_agent.executor import late_interrupt
from pythond_agent.finish import finish_cell
from pythond_agent.lineedit import LineEditor
import pythond_agent.link as frames
from pythond_agent.terminal import MAX_SCREEN, Terminal

MAX_INPUT = 1 << 20  # one input request; larger ones are refused
MAX_MIRROR = 256 << 10  # agent-cell output mirrored onto the screen, per cell


def attach_handlers(session):
    """Agent link ops of the attach feature, added to Session.handlers."""

    def repl():
        if session.repl is None:
            session.repl = HumanRepl(session)
        return session.repl

    def op_attach(header, blobs):
        term = repl().term
        if header.get("rows") is not None:
            term.resize(header.get("rows"), header.get("cols"))
        since = header.get("from")
        return term.attach(int(header.get("max") or MAX_SCREEN), since if type(since) is int else None, header.get("screen"))

    def op_detach(header, blobs):
        if session.repl is not None:
            session.repl.term.detach()
        return {}, ()

    def op_input(header, blobs):
        data = bytes(blobs[0]) if blobs else b""
        if len(data) > MAX_INPUT:
            raise ValueError("input frame too large (%d bytes, limit %d)" % (len(data), MAX_INPUT))
        return {"detach": repl().feed(data)}, ()

    def op_resize(header, blobs):
        repl().term.resize(header.get("rows"), header.get("cols"))
        return {}, ()

    return {"attach": op_attach, "detach": op_detach, "input": op_input, "resize": op_resize}


def _history_path(name):
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".pythond", "sessions", name, "repl_history")


class HumanRepl:
    def __init__(self, session):
        self.s = session
        self.term = Terminal(session)
        self.lock = self.term.lock  # the editor state and writes to the screen
        self.ed = LineEditor(self.term.write, self._submit, self._complete, self._interrupt_running, _history_path(session.name))
        self.mirrored = 0
        py = "%d.%d.%d" % sys.version_info[:3]
        self.term.write("Python %s | pythond session %r, shared with the agent\n"
                        "Ctrl-] or Ctrl-D detaches; the session lives on (end it: pysh kill %s)\n" % (py, self.s.name, self.s.name))
        self.ed.prompt()
        deadline = time.time() + 1.0  # the first attacher's replay should hold banner and prompt
        while self.term.offset < self.term.written and time.time() < deadline:
            time.sleep(0.002)

    # -- output from elsewhere ------------------------------------------------------------
    def background(self, data):
        """Write data above the prompt line, then redraw the prompt and the line being edited."""
        out = self.term.write
        with self.lock:
            idle = self.ed.busy is None
            if idle:
                out(b"\r\x1b[K")
            out(data)
            if idle:
                if not self.term.at_bol:
                    out(b"\n")
                self.ed.redraw()

    def agent_start(self, cell):
        self.mirrored = 0
        lines = cell.code.strip("\n").splitlines() or [""]
        text = "[agent] run: %s\n" % lines[0]
        for line in lines[1:50]:
            text += "[agent]   : %s\n" % line
        if len(lines) > 50:
            text += "[agent]   : ... (%d more lines)\n" % (len(lines) - 50)
        with self.lock:
            if self.ed.busy is None:
                self.term.write(b"\r\x1b[K")
            elif not self.term.at_bol:
                self.term.write(b"\n")
            self.term.write(text)

    def agent_output(self, cell, data):
        if self.mirrored >= MAX_MIRROR:
            return
        self.mirrored += len(data)
        with self.lock:
            self.term.write(data)
            if self.mirrored >= MAX_MIRROR:
                self.term.write("\n[agent] ... more output not shown here (pysh poll)\n")

    def agent_end(self, cell):
        with self.lock:
            if not self.term.at_bol:
                self.term.write(b"\n")
            if self.ed.busy is None:
                self.ed.redraw()

    # -- keys (reader thread) and the editor's callbacks ----------------------------------
    def feed(self, data):
        """Keystrokes from an attached client. Returns True when the client should detach."""
        with self.lock:
            if self.ed.busy is None:
                return self.ed.feed(data)
            if b"\x03" in data:  # a human cell runs: keys go to its terminal, Ctrl-C interrupts it
                data = data.replace(b"\x03", b"")
                self._interrupt()
            self.term.type_keys(data)
            return False

    def _interrupt(self):
        self.term.flush_input()
        self.s.op_int({}, ())

    def _interrupt_running(self):
        """Ctrl-C at an empty prompt: interrupts an agent cell if one runs."""
        if self.s.current is None:
            return False
        self._interrupt()
        return True

    def _complete(self, word):
        from pythond_agent.complete import complete

        # Tab runs on the link's reader thread: the user code completion runs (__getattr__, ...)
        # goes to a worker with a short deadline, so a hanging attribute costs a bell, not the link.
        try:
            return self.s.introspector.wait("completion", lambda: complete(self.s.ns, word), 0.5).get("matches", [])
        except Exception:
            return []

    def _submit(self, source):
        import binascii

        cell = self.s.cells.add(binascii.hexlify(os.urandom(6)).decode(), "run", source, "human")
        self.s.queue.put(cell)
        return cell.id

    # -- a human cell (main thread) ------------------------------------------------------
    def run_cell(self, cell):
        import io

        s = self.s
        cell.state = "running"
        cell.started_at = time.time()
        s.send(frames.event("start", c=cell.id))
        with s.capture.lock:
            s.capture.drain()
            s._send_pending()
            s.current = cell
        saved = [os.dup(fd) for fd in (0, 1, 2)]
        old_in = sys.stdin
        for fd in (0, 1, 2):
            os.dup2(self.term.slave, fd)
        tin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="replace")
        tout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True, write_through=True)
        terr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True, write_through=True)
        sys.stdin, sys.stdout, sys.stderr = tin, tout, terr
        sys.__stdin__ = tin
        try:
            ok, error = self._execute(cell.code)
        except KeyboardInterrupt:
            ok, error = False, late_interrupt()
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
        with s.capture.lock:
            finish_cell(s, cell, ok, None, error)
        typeahead = self.term.take_typeahead(MAX_INPUT)
        with self.lock:
            self.ed.resume(typeahead)

    def _execute(self, source):
        """The statement on the session's executor; its error shown as Python's REPL shows it."""
        ok, error = self.s.executor.run_interactive(source, "<stdin>")
        if error is None:
            return ok, error
        if error["type"] == "SystemExit":
            text = "%s: a shared session does not end from here. Detach: Ctrl-] or Ctrl-D; " \
                   "end the session: pysh kill %s\n" % (error["message"], self.s.name)
        else:
            text = error["traceback"]
        try:
            sys.stderr.write(text)
        except Exception:
            pass
        return ok, error
