"""The end of a cell, one way for every kind: an agent cell, a fork, a human's REPL statement
and a queued cell cancelled before it ran.

Its record is completed; output dropped past the cap is said, as the cell's last stderr; the
done record goes as the reply to an exec that waits for it, else as a "done" event (a human's
carries its code: the daemon never saw it, and records it in the session's history); and the
store counts it, evicting old cells past its caps.
"""
import time

from pythond_agent.cells import STDERR
import pythond_agent.link as frames


def finish_cell(session, cell, ok, value=None, error=None, state="done"):
    """Caller holds session.capture.lock, so the done record follows the cell's output."""
    cell.ok, cell.value, cell.error = ok, value, error
    cell.ended_at = session.last_activity = time.time()
    cell.state = state
    if cell.dropped:
        note = ("\n[pythond: output truncated, %d bytes dropped]\n" % cell.dropped).encode()
        cell.chunks.append([STDERR, bytearray(note)])
        session.send(frames.event("out", c=cell.id, s=STDERR), [note])
    done = cell.result()
    link, rid = session.replies.pop(cell.id, (None, None))
    if link is not None and link is session.link:
        link.send(frames.result(rid, done))
    else:
        if cell.origin == "human":
            done["code"] = cell.code
        session.send(frames.event("done", c=cell.id, **done))
    session.cells.finished(cell)
