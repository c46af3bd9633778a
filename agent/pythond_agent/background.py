"""Output that belongs to no cell: a thread or child process still printing after its cell
ended, anything written between cells. Kept for `pysh output`, bounded, never silently dropped.

Positions are byte offsets in the session's background output since the agent started: a
reader asks for what came after the offset it saw last, and is told how many bytes in between
were dropped to keep the log under its cap (oldest first).
"""


class BackgroundLog:
    def __init__(self, cap):
        self.cap = cap
        self.chunks = []  # [offset, stream, bytearray], adjacent writes of one stream merged
        self.start = 0  # offset of the first byte still kept
        self.end = 0  # offset after the last byte written

    def add(self, stream, data):
        if self.chunks and self.chunks[-1][1] == stream:
            self.chunks[-1][2] += data
        else:
            self.chunks.append([self.end, stream, bytearray(data)])
        self.end += len(data)
        over = (self.end - self.start) - self.cap
        while over > 0 and self.chunks:
            first = self.chunks[0]
            if len(first[2]) <= over:
                self.chunks.pop(0)
                over -= len(first[2])
                self.start += len(first[2])
            else:
                del first[2][:over]
                first[0] += over
                self.start += over
                over = 0

    def since(self, offset):
        """(result, blobs): what came after offset, and how much of that is gone."""
        offset = max(0, min(offset, self.end))
        dropped = max(0, self.start - offset)
        streams, blobs = [], []
        for pos, stream, data in self.chunks:
            if pos + len(data) <= offset:
                continue
            cut = max(0, offset - pos)
            streams.append(stream)
            blobs.append(bytes(data[cut:]))
        return {"seq": self.end, "since": offset, "dropped": dropped, "streams": streams}, blobs

    def summary(self):
        return {"seq": self.end, "bytes": self.end - self.start, "dropped": self.start}
