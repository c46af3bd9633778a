"""Loading tool classes on a tool agent: what a "sync" request uploads (a module's source, an
inline class with the definitions it uses, or a builtin module), and "Qual.method" resolved to
a Method of a known kind (sync, inline, async, async generator). tooldispatch.py runs the calls.
"""
import sys

from pythond_agent.toolbase import Tool

MAX_SOURCE = 16 << 20
SYNC, INLINE, ASYNC, AGEN = 0, 1, 2, 3
QUICK_S = 0.0005  # a method whose last run was shorter runs in batches (Method.quick)

# Method kinds from code flags (inspect costs ~4 ms and ~1 MB to import on a bare agent).
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200
_FunctionType = type(lambda: None)


def _static_lookup(cls, name):
    """The raw class attribute (staticmethod/classmethod/function) without the descriptor protocol."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


class _SourceLoader:
    """The loader of a synced tool module, as far as linecache needs one."""

    def __init__(self, source):
        self.source = source

    def get_source(self, name):
        return self.source


class Method:
    """A resolved tool method. quick: it runs in under QUICK_S, so calls to it run in order on
    the reading thread (ToolAgent.run_quick). It becomes quick after one short run, and stops
    being quick after two long runs in a row: one long run is as likely a thread that was not
    scheduled (a loaded machine) as a method that blocks, and flipping on every such hiccup
    sent whole batches of quick calls through the pool one by one."""

    __slots__ = ("fn", "kind", "label", "quick", "slow_runs")

    def __init__(self, fn, kind, label):
        self.fn = fn
        self.kind = kind
        self.label = label  # "Qual.method", for errors
        self.quick = False
        self.slow_runs = 0

    def ran(self, seconds):
        if seconds < QUICK_S:
            self.slow_runs = 0
            self.quick = True
        else:
            self.slow_runs += 1
            if self.slow_runs >= 2:
                self.quick = False


class ToolModules:
    """The tool modules synced on one connection, by sync key, and the one instance of each
    class whose instance methods are called."""

    def __init__(self):
        self.modules = {}  # sync key -> module or namespace
        self.instances = {}  # class -> the per-connection instance for instance methods

    def sync(self, h):
        """Load what a sync request names, once per key. True if it was loaded now."""
        key = h.get("key")
        if not isinstance(key, str):
            raise ValueError("sync needs a string key")
        if key in self.modules:
            return False
        self.modules[key] = _load(h)
        return True

    def resolve(self, key, qual, meth):
        mod = self.modules.get(key)
        if mod is None:
            raise ValueError("Tool %s not found (not synced on this connection)" % key)
        obj = mod
        for part in qual.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                raise ValueError("Tool %s not found" % qual)
        if not (isinstance(obj, type) and issubclass(obj, Tool)):
            raise ValueError("Tool %s not found (not a Tool class)" % qual)
        raw = _static_lookup(obj, meth)
        if raw is None:
            raise ValueError("Method %s not found in tool %s" % (meth, qual))
        if isinstance(raw, (staticmethod, classmethod)):
            fn = getattr(obj, meth)  # a classmethod binds to the class the caller named
            target = raw.__func__
        elif isinstance(raw, _FunctionType):
            inst = self.instances.get(obj)
            if inst is None:
                inst = self.instances[obj] = object.__new__(obj)
            fn = getattr(inst, meth)
            target = raw
        else:
            raise ValueError("%s is not callable in tool %s" % (meth, qual))
        flags = getattr(getattr(target, "__code__", None), "co_flags", 0)
        if flags & _CO_ASYNC_GENERATOR:
            kind = AGEN
        elif flags & _CO_COROUTINE:
            kind = ASYNC
        elif getattr(target, "__tool_inline__", False):
            kind = INLINE
        else:
            kind = SYNC
        return Method(fn, kind, "%s.%s" % (qual, meth))


def _load(h):
    kind = h.get("kind")
    name = h.get("module")
    if kind == "builtin":
        import importlib

        return importlib.import_module(name)
    src = h.get("src")
    if not isinstance(src, str) or len(src) > MAX_SOURCE or not isinstance(name, str):
        raise ValueError("sync needs module name and source (at most %d bytes)" % MAX_SOURCE)
    filename = h.get("file") or "<pythond-tool:%s>" % name
    code = compile(src, filename, "exec", dont_inherit=True)
    import types

    mod = types.ModuleType(name)
    mod.__file__ = filename
    # Tracebacks find the source through __loader__ (linecache.lazycache), so linecache
    # (tokenize, re, enum: ~2 ms) is not imported before something formats a traceback.
    mod.__loader__ = _SourceLoader(src)
    if filename.startswith("<"):  # lazycache skips <pseudo-files>: register it now
        import linecache

        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    if kind == "class":
        # An inline class (defined in a script, a function or a REPL): the controller sent
        # the class and the definitions it uses (never the script's other statements), and
        # "pre", bindings made from values, which run first. The names the seed promises
        # are injected.
        from rmote.process import async_process, process
        from pythond_agent.toolbase import inline

        pre = h.get("pre") or ""
        if not isinstance(pre, str) or len(pre) > MAX_SOURCE:
            raise ValueError("sync: pre must be source text (at most %d bytes)" % MAX_SOURCE)
        mod.__dict__.update(Tool=Tool, inline=inline, process=process, async_process=async_process)
        if pre:
            exec(compile(pre, "<pythond-tool-bindings:%s>" % name, "exec", dont_inherit=True), mod.__dict__)
        exec(code, mod.__dict__)
        return mod
    if kind != "module":
        raise ValueError("unknown sync kind %r" % (kind,))
    # The newest upload of a module name becomes sys.modules[name], so dataclasses,
    # pickle-free type lookups and later imports see the edited source.
    previous = sys.modules.get(name)
    sys.modules[name] = mod
    try:
        exec(code, mod.__dict__)
    except BaseException:
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
        raise
    return mod
