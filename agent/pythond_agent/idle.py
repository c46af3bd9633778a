"""No immortal orphans: a detached agent (detach.py) that no daemon re-joins ends by itself.

After `idle_ttl` seconds without a controller (the link dropped and nobody proved the secret
since), the agent logs why in its log on its own host and ends, as `pysh kill` would.
"""
import threading
import time


def watch(session, ttl, log):
    def loop():
        step = min(30.0, max(0.2, ttl / 10.0))
        while True:
            time.sleep(step)
            since = session.unlinked_at
            if session.link is None and since is not None and time.time() - since >= ttl:
                from pythond_agent.detach import log_line

                log_line(log, "ended: no pythond daemon re-joined this session for %g s (its idle TTL, --idle-ttl)" % ttl)
                session.shutdown()

    threading.Thread(target=loop, name="pythond-idle", daemon=True).start()
