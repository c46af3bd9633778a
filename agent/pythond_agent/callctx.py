"""Which tool call the current thread or task is serving, so helpers (process) can attach to it.

A cancelled or expired call kills the process groups its children were started in.
"""
import contextvars
import os

current = contextvars.ContextVar("pythond_call", default=None)


def track_process_group(pgid):
    call = current.get()
    if call is None:
        return None
    call.pgids.add(pgid)
    return (call, pgid)


def untrack_process_group(token):
    call, pgid = token
    call.pgids.discard(pgid)


def kill_process_groups(call):
    import signal  # here: importing it builds enums (~3 ms), and most agents never get here

    for pgid in list(call.pgids):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
