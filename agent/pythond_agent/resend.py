"""Events the controller may not have received yet: numbered, kept until it acknowledges them,
and sent again to the controller that takes the link back after a drop.

A link through a transport (`ssh host`, a relay: detach.py) can lose what was written into it
just before it dropped, and events sent while no controller is connected would be lost too.
Every event gets a sequence number "q" (1, 2, ...); the daemon acknowledges with
{"k": "ack", "q": n} now and then, and a controller that proves the secret again says in its
auth request the last number it received ("since"): the events after it are sent first, in
order, before any new one, so output reaches it in order and exactly once. Replies to
requests are not numbered: a reply lost with its link is asked for again (poll).
The buffer is bounded; past the bound the oldest events are dropped and a controller that
missed them is told so ({"ev": "gap"}): the cells' output stays available to poll.
"""
import collections
import threading


class EventLog:
    def __init__(self, limit_bytes, controller):
        self.controller = controller  # the current controller's link, or None
        self.lock = threading.Lock()
        self.limit = limit_bytes
        self.seq = 0
        self.kept = collections.deque()  # (q, header, blobs, size), oldest first
        self.bytes = 0
        self.dropped = 0  # the highest q dropped before it was acknowledged

    def send(self, header, blobs=()):
        """Number the event, keep it, send it to the controller if there is one now. Under
        the lock, so the numbers leave in order and a take-over misses no event."""
        with self.lock:
            link = self.controller()
            self.seq += 1
            header["q"] = self.seq
            size = 256 + sum(len(b) for b in blobs)
            self.kept.append((self.seq, header, blobs, size))
            self.bytes += size
            while self.bytes > self.limit and len(self.kept) > 1:
                q, _, _, n = self.kept.popleft()
                self.bytes -= n
                self.dropped = q
            if link is not None:
                link.send(header, blobs)

    def ack(self, q):
        """The controller has every event up to q: forget them."""
        if not isinstance(q, int) or isinstance(q, bool):
            return
        with self.lock:
            while self.kept and self.kept[0][0] <= q:
                self.bytes -= self.kept.popleft()[3]

    def take_over(self, switch, since):
        """Make a new controller current (switch() does, under the lock) and send it what
        followed event `since`; a controller without `since` (a daemon that never had this
        agent) starts from the next event. Returns the number of the last event so far: what
        the controller has, once it has what was just sent (its `since` after a drop)."""
        with self.lock:
            link = switch()
            if not isinstance(since, int) or isinstance(since, bool) or since < 0 or since > self.seq:
                return self.seq
            if self.dropped > since:
                link.send({"k": "ev", "ev": "gap", "from": since + 1, "to": self.dropped})
            link.send_many([(h, b) for q, h, b, _ in self.kept if q > since])
            return self.seq
