"""Forward the agent's logging records to the controller, in order, from any thread or task.

Each record leaves at once through the link's combining writer, so it precedes the reply of
the call that emitted it.
"""
import logging


class _LinkHandler(logging.Handler):
    def __init__(self, send):
        super().__init__(logging.NOTSET)
        self._send = send

    def emit(self, record):
        try:
            msg = record.getMessage()
            exc = None
            if record.exc_info:
                exc = logging.Formatter().formatException(record.exc_info)
            self._send({"k": "log", "r": [record.name, record.levelno, msg, exc, record.created]})
        except Exception:
            pass  # a broken record must never break the call that logged it


def install(send):
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(_LinkHandler(send))
    root.setLevel(logging.INFO)
