"""The line editor of the human REPL: a Python statement (one or more lines) edited on a terminal.

It knows nothing of sessions or cells. Callbacks: out(text) writes to the terminal;
submit(source) takes a complete statement (the editor is busy until resume(): keys fed
meanwhile are kept as typeahead); complete(word) returns Tab completions; interrupt() is Ctrl-C
on an empty line and returns False when nothing ran. History persists in hist_file.
Not thread-safe: the caller serialises feed(), resume(), prompt() and redraw() with its writes.
"""
import os

MAX_HISTORY = 1000
PROMPT1 = ">>> "
PROMPT2 = "... "
_COLOR_PROMPT = "\x1b[1;35m%s\x1b[0m"
_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


class LineEditor:
    def __init__(self, out, submit, complete, interrupt, hist_file):
        import codecs

        self.out = out
        self.submit = submit
        self.complete = complete
        self.interrupt = interrupt
        self.buf = []
        self.pos = 0
        self.block = []  # lines of an unfinished multi-line statement
        self.busy = None  # what submit() returned, until resume()
        self.ahead = b""  # keys that followed an Enter in the same input chunk
        self.pend = b""
        self.dec = codecs.getincrementaldecoder("utf-8")("replace")
        self.last_key = None
        self.after_cr = False
        self.hist_file = hist_file
        self.history = self._load_history()
        self.hidx = len(self.history)
        self.draft = ""

    # -- the screen ------------------------------------------------------------------------
    def _prompt_text(self):
        return PROMPT2 if self.block else PROMPT1

    def prompt(self):
        self.out(_COLOR_PROMPT % self._prompt_text())

    def redraw(self):
        line = "".join(self.buf)
        back = len(self.buf) - self.pos
        self.out("\r" + _COLOR_PROMPT % self._prompt_text() + line + "\x1b[K" + ("\x1b[%dD" % back if back else ""))

    def _set(self, text):
        self.buf = list(text)
        self.pos = len(self.buf)
        self.redraw()

    # -- keys ------------------------------------------------------------------------------
    def feed(self, data):
        """Keystrokes (not while busy). Returns True when they ask to detach (Ctrl-D on an empty line)."""
        for kind, key in self._keys(data):
            if self.busy is not None:  # typed past an Enter in one chunk (a paste): kept for the prompt
                self.ahead += key.encode("utf-8") if kind == "text" else bytes([key]) if kind == "ctl" else key
                continue
            if self._key(kind, key):
                return True
            self.last_key = (kind, key)
        return False

    def resume(self, typeahead):
        """The submitted statement is done: prompt again, then edit the keys typed meanwhile."""
        self.busy = None
        self.prompt()
        ahead, self.ahead = self.ahead + typeahead, b""
        if ahead:
            self.feed(ahead)

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
                    while j < n and not (0x40 <= buf[j] <= 0x7E) and buf[j] >= 0x20:
                        j += 1
                    if j < n and buf[j] < 0x20:
                        i = j  # a control key (Ctrl-C ...) inside: drop the broken sequence, keep the key
                        continue
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
                    self.out("\r\n")
                    self.redraw()
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
                    self.redraw()
            elif key == 0x01:
                self.pos = 0
                self.redraw()
            elif key == 0x05:
                self.pos = len(self.buf)
                self.redraw()
            elif key == 0x02:
                self._move(-1)
            elif key == 0x06:
                self._move(1)
            elif key == 0x0B:
                del self.buf[self.pos :]
                self.redraw()
            elif key == 0x15:
                del self.buf[: self.pos]
                self.pos = 0
                self.redraw()
            elif key == 0x17:
                p = self.pos
                while p and self.buf[p - 1] == " ":
                    p -= 1
                while p and self.buf[p - 1] != " ":
                    p -= 1
                del self.buf[p : self.pos]
                self.pos = p
                self.redraw()
            elif key == 0x0C:
                self.out("\x1b[H\x1b[2J")
                self.redraw()
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
                self.redraw()
            elif seq in (b"[F", b"OF", b"[4~", b"[8~"):
                self.pos = len(self.buf)
                self.redraw()
            elif seq == b"[3~":
                self._delete()
        return False

    # -- editing ---------------------------------------------------------------------------
    def _insert(self, text):
        self.buf[self.pos : self.pos] = list(text)
        self.pos += len(text)
        if self.pos == len(self.buf):
            self.out(text)  # the common case: typing at the end
        else:
            self.redraw()

    def _delete(self):
        if self.pos < len(self.buf):
            del self.buf[self.pos]
            self.redraw()

    def _move(self, d):
        p = min(max(self.pos + d, 0), len(self.buf))
        if p != self.pos:
            self.out("\x1b[C" if p > self.pos else "\x1b[D")
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
        self.dec.reset()  # half a UTF-8 character typed before Ctrl-C must not spoil the next line
        if self.buf or self.block:
            self.buf, self.pos, self.block = [], 0, []
            self.out("^C\r\nKeyboardInterrupt\r\n")
            self.prompt()
        elif not self.interrupt():
            self.out("\r\nKeyboardInterrupt\r\n")
            self.prompt()

    def _tab(self):
        p = self.pos
        while p and self.buf[p - 1] in _WORD:
            p -= 1
        word = "".join(self.buf[p : self.pos])
        if not word.strip():
            self._insert("    ")
            return
        matches = sorted(set(self.complete(word)))
        if not matches:
            self.out("\x07")
            return
        if len(matches) == 1:
            self._insert(matches[0][len(word) :])
            return
        prefix = os.path.commonprefix(matches)
        if len(prefix) > len(word):
            self._insert(prefix[len(word) :])
        elif self.last_key == ("ctl", 0x09):
            self.out("\r\n" + "  ".join(matches) + "\r\n")
            self.redraw()
        else:
            self.out("\x07")

    def _enter(self):
        import codeop

        line = "".join(self.buf)
        self.pos = len(self.buf)
        self.out("\r\n")
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
            self.prompt()
            return
        self.block = []
        if not source.strip():
            self.prompt()
            return
        self.busy = self.submit(source)

    # -- history ---------------------------------------------------------------------------
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
