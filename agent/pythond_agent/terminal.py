"""The human REPL's terminal: a PTY pair owned by the agent, and the screen log of its master.

The slave is the human's terminal. A reader thread drains the master into a ring (the screen
log, replayed to late attachers) and sends it to the controller as "screen" events while anyone
is attached. Keystrokes for a program reading the slave are written to the master.

Size policy: the latest resize wins (every attach and every resize sets TIOCSWINSZ).
"""
import binascii
import os
import termios
import threading
import time

import pythond_agent.link as frames

MAX_SCREEN = 1 << 20  # the screen log keeps at least this much


class Terminal:
    def __init__(self, session):
        import pty

        self.s = session  # only its link (the controller) and send() are used
        self.master, self.slave = pty.openpty()
        self.cooked = termios.tcgetattr(self.slave)
        # No flow control: a Ctrl-S from a client must never stop the screen (writers would block).
        self.cooked[0] &= ~(termios.IXON | termios.IXOFF)
        termios.tcsetattr(self.slave, termios.TCSANOW, self.cooked)
        # Keystrokes written to a full tty input queue must be dropped, never block the reader.
        os.set_blocking(self.master, False)
        self.lock = threading.RLock()  # writes to the screen, the viewers, and the REPL's editor state
        self.screen_lock = threading.Lock()
        self.screen = bytearray()
        self.offset = 0  # bytes ever read from the master
        # Names this screen log: a resume "from byte N" is only honoured by the log it came from.
        self.id = binascii.hexlify(os.urandom(8)).decode()
        self.written = 0  # bytes ever written to the slave (each comes back as >= 1 byte)
        self.viewers = 0
        self.viewer_link = None
        self.rows, self.cols = 24, 80
        self.at_bol = True  # the last write ended a line
        self.resize(24, 80)
        threading.Thread(target=self._drain, name="pythond-pty", daemon=True).start()

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
                self.s.send(frames.event("screen", o=end), [data])

    # -- viewers -------------------------------------------------------------------------
    def attach(self, limit, since=None, screen=None):
        """Count a viewer; return the replay. With since (a byte offset of this screen log, named
        by screen) the replay is exactly the bytes after it, when the log still holds them all."""
        link = self.s.link
        with self.lock:
            if self.viewer_link is not link:
                self.viewer_link, self.viewers = link, 0
            self.viewers += 1
        limit = max(1, min(limit, 2 * MAX_SCREEN))
        with self.screen_lock:
            end = self.offset
            base = end - len(self.screen)
            resumed = screen == self.id and isinstance(since, int) and base <= since <= end and end - since <= limit
            snap = bytes(self.screen[since - base :] if resumed else self.screen[-limit:])
        info = {"offset": end, "rows": self.rows, "cols": self.cols, "viewers": self.viewers, "screen": self.id, "resumed": resumed}
        if resumed:
            return info, [snap]
        if len(snap) < end:
            nl = snap.find(b"\n", 0, 4096)  # start the replay at a line boundary
            if nl >= 0:
                snap = snap[nl + 1 :]
        return info, [b"\x1b[0m" + snap]

    def detach(self):
        with self.lock:
            self.viewers = max(0, self.viewers - 1)

    def resize(self, rows, cols):
        import fcntl
        import struct

        if not isinstance(rows, int) or not isinstance(cols, int) or not (0 < rows < 10000 and 0 < cols < 10000):
            raise ValueError("invalid size: rows and cols must be integers from 1 to 9999")
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.rows, self.cols = rows, cols

    # -- writing and reading ---------------------------------------------------------------
    def write(self, text):
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
            self.written += n
            view = view[n:]

    def type_keys(self, data):
        """Keystrokes for whatever reads the slave; a full input queue drops what does not fit (as a terminal does)."""
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.master, view) :]
            except InterruptedError:
                continue
            except OSError:
                break

    def flush_input(self):
        """Discard keys typed but not yet read from the slave."""
        try:
            termios.tcflush(self.slave, termios.TCIFLUSH)
        except OSError:
            pass

    def take_typeahead(self, limit):
        """Keys typed but not read (at most about limit bytes), taken off the slave; it is left cooked."""
        try:
            attrs = termios.tcgetattr(self.slave)
            attrs[3] &= ~(termios.ICANON | termios.ECHO)
            attrs[6][termios.VMIN] = 0
            attrs[6][termios.VTIME] = 0
            termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
            data = b""
            while len(data) < limit:
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
