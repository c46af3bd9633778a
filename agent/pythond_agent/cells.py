"""Cell records kept by a session agent: state, captured output and result, under size caps."""
import time

STDOUT, STDERR = 1, 2
FINAL = ("done", "cancelled")  # states a cell never leaves


class Cell:
    __slots__ = (
        "id", "seq", "mode", "code", "state", "queued_at", "started_at", "ended_at",
        "chunks", "size", "dropped", "ok", "error", "value", "origin",
        "merged", "skipped", "images", "rich", "stdin",
    )

    def __init__(self, cell_id, seq, mode, code, origin="agent"):
        self.id = cell_id
        self.seq = seq
        self.mode = mode
        self.code = code
        self.origin = origin
        self.state = "queued"
        self.queued_at = time.time()
        self.started_at = None
        self.ended_at = None
        self.chunks = []  # [stream, bytearray], adjacent writes of one stream merged
        self.size = 0
        self.dropped = 0
        self.ok = None
        self.error = None
        self.value = None
        self.merged = None  # fork cells: names merged back / skipped
        self.skipped = None
        self.images = []  # PNG paths of rich outputs
        self.rich = []  # text parts of rich outputs: {"mime", "text"}
        self.stdin = None  # text the caller passed as the cell's stdin (pysh run --stdin)

    def add_output(self, stream, data, cap):
        """Keep data within cap; return what was kept (what streams on)."""
        room = cap - self.size
        if len(data) > room:
            self.dropped += len(data) - max(room, 0)
            data = data[: max(room, 0)]
            if not data:
                return b""
        if self.chunks and self.chunks[-1][0] == stream:
            self.chunks[-1][1] += data
        else:
            self.chunks.append([stream, bytearray(data)])
        self.size += len(data)
        return data

    def output_text(self):
        return b"".join(bytes(c[1]) for c in self.chunks).decode("utf-8", "backslashreplace")

    def duration(self):
        if self.started_at is None:
            return None
        return (self.ended_at or time.time()) - self.started_at

    def summary(self):
        return {
            "cell_id": self.id, "seq": self.seq, "mode": self.mode, "origin": self.origin,
            "state": self.state, "queued_at": self.queued_at, "started_at": self.started_at,
            "duration": self.duration(), "ok": self.ok, "bytes": self.size, "dropped": self.dropped,
        }

    def title(self):
        """The code's first non-blank line, at most 120 characters: what a list of cells shows."""
        for line in (self.code or "").splitlines():
            if line.strip():
                return line if len(line) <= 120 else line[:119] + "\u2026"
        return ""

    def result(self):
        r = self.summary()
        r.update(error=self.error, value=self.value)
        if self.mode == "fork":
            r.update(merged=self.merged or [], skipped=self.skipped or [])
        if self.images:
            r["images"] = list(self.images)
        if self.rich:
            r["rich"] = list(self.rich)
        return r


class CellStore:
    """All cells of a session, newest last; evicts the oldest finished ones past the caps."""

    def __init__(self, retain_bytes, retain_cells=1000):
        self.cells = {}
        self.retain_bytes = retain_bytes
        self.retain_cells = retain_cells
        self.evicted = 0
        self.evicted_ids = []
        self.seq = 0
        self.done_bytes = 0  # output kept by finished cells: what the byte cap counts

    def add(self, cell_id, mode, code, origin="agent"):
        self.seq += 1
        cell = Cell(cell_id, self.seq, mode, code, origin)
        self.cells[cell_id] = cell
        return cell

    def latest(self):
        return next(reversed(self.cells.values()), None) if self.cells else None

    def finished(self, cell):
        """Count a cell that just ended, then evict the oldest finished cells past the caps.

        Runs after every cell, so the usual case (under both caps) costs O(1).
        """
        self.done_bytes += cell.size
        over_bytes = self.done_bytes - self.retain_bytes
        over_cells = len(self.cells) - self.retain_cells
        if over_bytes <= 0 and over_cells <= 0:
            return
        doomed = []
        for cid, old in self.cells.items():
            if over_bytes <= 0 and over_cells <= 0:
                break
            if old.state in FINAL:
                doomed.append(cid)
                over_bytes -= old.size
                over_cells -= 1
        for cid in doomed:
            self.done_bytes -= self.cells.pop(cid).size
            self.evicted += 1
            self.evicted_ids.append(cid)
        del self.evicted_ids[:-256]
