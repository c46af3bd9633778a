"""The producing side of a streamed call: batching plus credit-based flow control.

Each item costs 16 bytes plus its attachments' bytes against a window of 4 MiB and 1,024 items
granted by the consumer. Items produced in one loop turn leave together in one frame.
"""
from pythond_agent import codec

WINDOW_ITEMS = 1024
WINDOW_BYTES = 4 << 20
ITEM_OVERHEAD = 16
ITEM_LIMIT = 64 << 20
BATCH_ITEMS = 256
BATCH_BYTES = 1 << 20


class StreamSender:
    def __init__(self, agent, call, event):
        self.agent = agent
        self.call = call
        self.event = event
        self.items = WINDOW_ITEMS
        self.bytes = WINDOW_BYTES
        self.inflight = 0
        self.batch = []
        self.blobs = []
        self.batch_bytes = 0
        self.flush_scheduled = False

    def offer(self, item):
        """Take item if the window has room for it now (the common case: no coroutine per item);
        False means: await put(item)."""
        start = len(self.blobs)
        enc, cost = _encode(item, self.blobs)
        if self.items < 1 or cost > self.bytes or cost > ITEM_LIMIT:
            del self.blobs[start:]
            return False
        self._take(enc, cost)
        return True

    async def put(self, item):
        _, cost = _encode(item, [])  # its cost; its attachments join the batch once it fits
        if cost > ITEM_LIMIT:
            raise ValueError("stream item of %d bytes is above the limit of %d" % (cost, ITEM_LIMIT))
        # Wait for credit; an item larger than the whole window goes alone when nothing is in flight.
        while self.items < 1 or (cost > self.bytes and self.inflight > 0):
            self.flush()
            self.event.clear()
            await self.event.wait()
        enc, cost = _encode(item, self.blobs)
        self._take(enc, cost)

    def _take(self, enc, cost):
        self.items -= 1
        self.bytes -= cost
        self.inflight += 1
        self.batch.append(enc)
        self.batch_bytes += cost
        if len(self.batch) >= BATCH_ITEMS or self.batch_bytes >= BATCH_BYTES:
            self.flush()
        elif not self.flush_scheduled:
            self.flush_scheduled = True
            self.agent._loop.call_soon(self.flush)

    def flush(self):
        self.flush_scheduled = False
        if not self.batch:
            return
        batch, blobs = self.batch, self.blobs
        self.batch, self.blobs, self.batch_bytes = [], [], 0
        self.agent.send({"k": "it", "i": self.call.id, "v": batch}, blobs)

    def grant(self, n, size):
        self.items += n
        self.bytes += size
        self.inflight = max(0, self.inflight - n)
        self.event.set()


def _encode(item, blobs):
    """(JSON-able form, window cost) of a stream item; its attachments are appended to blobs."""
    if type(item) is bytes:  # the usual streamed item: straight to an attachment
        blobs.append(item)
        return {"$": "b", "i": len(blobs) - 1}, ITEM_OVERHEAD + len(item)
    start = len(blobs)
    enc = codec.encode(item, blobs)
    cost = ITEM_OVERHEAD
    for i in range(start, len(blobs)):
        cost += len(blobs[i])
    return enc, cost
