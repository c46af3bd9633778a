"""Interrupt of a session agent (`pysh int`): what the agent itself can do.

KeyboardInterrupt (SIGINT to the main thread) for the executor's cell while it is in user
code, SIGKILL for every fork's process group. Escalation, when a cell ignores the interrupt,
is the daemon's (src/daemon/ops/int.ts). Stdlib only.
"""
import signal


def interrupt(session):
    """SIGINT the executor if a cell is in user code; SIGKILL every fork group."""
    cell = session.current
    threads = 0
    if cell is not None and session.executor.in_user_code:
        signal.pthread_kill(session.main_thread, signal.SIGINT)
        threads = 1
    forks = session.forks.kill_all() if session.forks is not None else []
    return {
        "interrupted": cell.id if threads else None,
        "threads": threads,
        "processes": len(forks),
        "forks": forks,
    }
