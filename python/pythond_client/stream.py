"""The consuming side of a streamed call (an async generator method on the agent).

The same flow control as the TypeScript SDK (src/tools/stream.ts) and the agent's producer
(agent/pythond_agent/streams.py): each item costs 16 bytes plus its attachments against a window
of 1,024 items and 4 MiB; credit goes back once half a window has been consumed, so a slow
consumer holds the producer back instead of buffering without bound.
"""
import asyncio
import collections

WINDOW_ITEMS = 1024
WINDOW_BYTES = 4 << 20
ITEM_OVERHEAD = 16


def attachment_bytes(enc, blobs, depth=0):
    """Bytes of the attachments an encoded value refers to (its cost beyond ITEM_OVERHEAD)."""
    if depth > 200:
        return 0
    t = type(enc)
    if t is list:
        return sum(attachment_bytes(v, blobs, depth + 1) for v in enc)
    if t is dict:
        if enc.get("$") == "b":
            i = enc.get("i")
            return len(blobs[i]) if type(i) is int and 0 <= i < len(blobs) else 0
        return sum(attachment_bytes(v, blobs, depth + 1) for v in enc.values())
    return 0


class StreamConsumer:
    """Items of one streamed call as they arrive, and the credit owed for those taken."""

    def __init__(self, decode, send_credit):
        self._decode = decode  # (encoded item, blobs) -> value
        self._send_credit = send_credit  # (items, bytes) -> None
        self._items = collections.deque()
        self._changed = asyncio.Event()
        self._owed_items = 0
        self._owed_bytes = 0
        self.error = None  # an item that failed to decode ends the stream with this

    def push(self, encoded_items, blobs):
        """Items from one frame (called by the connection's reader)."""
        if self.error is not None or not isinstance(encoded_items, list):
            return
        try:
            for enc in encoded_items:
                cost = ITEM_OVERHEAD + attachment_bytes(enc, blobs)
                self._items.append((self._decode(enc, blobs), cost))
        except Exception as e:  # a bad item fails this stream only
            self.error = e
        self._changed.set()

    def wake(self):
        self._changed.set()

    def take(self):
        """(True, item) for the next item, or (False, None) when none has arrived yet."""
        if not self._items:
            return False, None
        item, cost = self._items.popleft()
        self._owed_items += 1
        self._owed_bytes += cost
        if self._owed_items >= WINDOW_ITEMS // 2 or self._owed_bytes >= WINDOW_BYTES // 2:
            self._send_credit(self._owed_items, self._owed_bytes)
            self._owed_items = self._owed_bytes = 0
        return True, item

    async def wait(self):
        self._changed.clear()
        if not self._items:
            await self._changed.wait()
