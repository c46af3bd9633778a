"""Forward the agent's logging records to the controller, in order, from any thread or task.

Each record leaves at once through the link's combining writer, so it precedes the reply of
the call that emitted it.
"""
import sys


def _handler_class(logging):
    class LinkHandler(logging.Handler):
        def __init__(self, send):
            super().__init__(logging.NOTSET)
            self._send = send

        def emit(self, record):
            _emit(self._send, logging, record)

    return LinkHandler


def _emit(send, logging, record):
    try:
        msg = record.getMessage()
        exc = None
        if record.exc_info:
            exc = logging.Formatter().formatException(record.exc_info)
        send({"k": "log", "r": [record.name, record.levelno, msg, exc, record.created]})
    except Exception:
        pass  # a broken record must never break the call that logged it


def install(send):
    import logging

    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(_handler_class(logging)(send))
    root.setLevel(logging.INFO)


class _LoggingImportHook:
    """Installs the forwarding handler right after the first `import logging`.

    logging costs ~6 ms and ~1 MB to import; an agent whose tools never log never pays it,
    and a tool that does import it gets forwarding before its first record.
    """

    def __init__(self, send):
        self.send = send

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(self)
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec("logging")
        if spec is None or spec.loader is None:
            return None
        real_exec = spec.loader.exec_module
        send = self.send

        def exec_module(module):
            real_exec(module)
            sys.modules["logging"] = module
            install(send)

        loader = type("LoggingLoader", (), {"create_module": lambda self, s: None, "exec_module": lambda self, m: exec_module(m)})()
        spec.loader = loader
        return spec


def install_when_imported(send):
    if "logging" in sys.modules:
        install(send)
    else:
        sys.meta_path.insert(0, _LoggingImportHook(send))
