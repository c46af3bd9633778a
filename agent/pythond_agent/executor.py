"""The one executor: compiles and runs cells on the main thread, in one __main__ namespace.

Display rule (pythond 0.4): if the last statement is an expression, its value is shown,
a str raw and anything else as repr(); None shows nothing. Tracebacks show user frames only.
Top-level await works: one event loop is kept across cells, created on first use.
"""
import builtins
import linecache
import re
import sys
import types

# ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, without importing ast (~1.4 MiB) in sessions that never need it.
_TOP_LEVEL_AWAIT = 0x2000
_CO_COROUTINE = 0x80
_AGENT_PREFIX = "<pythond-agent:"
# One line, one simple statement: no ";" (each part would be shown), no compound statement
# (an expression inside `for ...: x` would be shown on every pass).
_ONE_SIMPLE_STATEMENT = re.compile(
    r"\s*(?!(?:for|while|if|with|try|async|match|def|class)\b|@)[^\n;]*\s*\Z"
)
_CACHE_ENTRIES = 256
_CACHE_SOURCE_MAX = 4096
_DISPLAYHOOK = object()  # tail marker: the body shows its value through sys.displayhook
# Names every namespace starts with, in 0.4's order (`vars` lists them so, byte for byte).
_PREIMPORT = ("os", "sys", "json", "time", "re", "subprocess", "shutil", "hashlib", "glob", "sqlite3", "socket")
# Of those, imported on first use. json too: the agent's own frames use _json directly, and the
# json package is ~0.4-0.8 MiB of an idle session's RSS with Debian's python3 (PERFORMANCE.md).
_PREIMPORT_LAZY = ("json", "subprocess", "shutil", "hashlib", "glob", "sqlite3", "socket")


class _LazyModule(types.ModuleType):
    """A pre-imported module name that imports on first use, then replaces itself."""

    def __init__(self, name, namespace):
        super().__init__(name)
        object.__setattr__(self, "_namespace", namespace)

    def _load(self):
        module = __import__(self.__name__)
        ns = object.__getattribute__(self, "_namespace")
        if ns.get(self.__name__) is self:
            ns[self.__name__] = module
        return module

    def __getattr__(self, attr):
        return getattr(self._load(), attr)

    def __dir__(self):
        return dir(self._load())

    def __repr__(self):
        return repr(self._load())


class _Exit:
    """exit()/quit() that raise SystemExit without closing sys.stdin (0.4 closed it)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "Use %s() to raise SystemExit; the session lives on (end it with: pysh kill <name>)" % self.name

    def __call__(self, code=None):
        raise SystemExit(code)


def make_namespace():
    main = types.ModuleType("__main__")
    ns = main.__dict__
    ns["__builtins__"] = builtins
    sys.modules["__main__"] = main
    for name in _PREIMPORT:
        if name not in _PREIMPORT_LAZY:
            ns[name] = __import__(name)
        else:
            ns[name] = sys.modules.get(name) or _LazyModule(name, ns)
    builtins.exit = _Exit("exit")
    builtins.quit = _Exit("quit")
    return ns


def public_names(ns):
    return [k for k in list(ns) if type(k) is str and not k.startswith("_")]  # globals()[1] = ... is legal


def user_traceback(exc):
    """Traceback text without the agent's own frames."""
    import traceback

    if isinstance(exc, SyntaxError):
        return "".join(traceback.format_exception_only(type(exc), exc))
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_AGENT_PREFIX):
        tb = tb.tb_next
    te = traceback.TracebackException(type(exc), exc, tb)
    # Agent frames below the user's (input() raising for the agent, display()) go too.
    mine = [f for f in te.stack if not f.filename.startswith(_AGENT_PREFIX)]
    if mine and len(mine) < len(te.stack):
        te.stack = traceback.StackSummary.from_list(mine)
    return "".join(te.format())


def describe_exit(exc):
    code = exc.code
    return "exit(%s)" % (0 if code is None else code)


def late_interrupt():
    """The error of a cell whose interrupt arrived as it ended, after run() returned."""
    return {"type": "KeyboardInterrupt", "message": "", "traceback": "KeyboardInterrupt\n"}


def error_of(exc):
    """A cell's error record: type, message and the traceback its caller is shown."""
    if isinstance(exc, SystemExit):
        text = describe_exit(exc)
        return {"type": "SystemExit", "message": text, "traceback": text + "\n"}
    return {"type": type(exc).__name__, "message": str(exc), "traceback": user_traceback(exc)}


class Executor:
    def __init__(self, namespace):
        self.ns = namespace
        self.loop = None
        self.in_user_code = False
        self.rich = None  # value -> shown text for images, or None (rich.Rich.shown)
        # Compiled cells by source text: agents repeat small cells (polls, `len(x)`), and in a
        # session that has just woken up compile() costs more than running them (PERFORMANCE.md).
        self.compiled = {}

    def _event_loop(self):
        if self.loop is None:
            import asyncio

            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
        return self.loop

    def _compile(self, source, filename):
        """(body, tail): tail is the last statement's expression when there is one (shown)."""
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        cached = self.compiled.pop(source, None)
        if cached is None:
            cached = self._compile_new(source, filename)
        elif cached[0].co_filename != filename:
            # Run again: its tracebacks name this cell (functions it defines keep the first name).
            body, tail = cached
            tail = tail.replace(co_filename=filename) if isinstance(tail, types.CodeType) else tail
            cached = body.replace(co_filename=filename), tail
        if len(source) <= _CACHE_SOURCE_MAX:
            while len(self.compiled) >= _CACHE_ENTRIES:
                del self.compiled[next(iter(self.compiled))]  # least recently used first
            self.compiled[source] = cached
        return cached

    def _compile_new(self, source, filename):
        if _ONE_SIMPLE_STATEMENT.match(source):
            # The common small cell (`x = 1`, `len(df)`) compiles straight from source, without
            # the round trip through Python AST objects; "single" mode hands an expression
            # statement's value to sys.displayhook.
            try:
                return compile(source, filename, "single", _TOP_LEVEL_AWAIT, dont_inherit=True), _DISPLAYHOOK
            except SyntaxError:
                pass  # reported by the general path below, with its usual message
        import ast

        tree = ast.parse(source, filename, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        flags = _TOP_LEVEL_AWAIT
        body = compile(tree, filename, "exec", flags, dont_inherit=True)
        tail = compile(last, filename, "eval", flags, dont_inherit=True) if last is not None else None
        return body, tail

    def _eval(self, code):
        if code.co_flags & _CO_COROUTINE:
            return self._event_loop().run_until_complete(eval(code, self.ns))
        return eval(code, self.ns)

    def _eval_single(self, code):
        """Run a "single"-mode cell; its displayed value, if any, is what displayhook got."""
        shown = []
        saved, sys.displayhook = sys.displayhook, shown.append
        try:
            self._eval(code)
        finally:
            sys.displayhook = saved
        return shown[-1] if shown else None

    def run(self, source, filename):
        """Run one cell. Returns (ok, value_text, error) where error is a dict or None."""
        try:
            try:
                body, tail = self._compile(source, filename)
                self.in_user_code = True
                if tail is _DISPLAYHOOK:
                    value = self._eval_single(body)
                else:
                    self._eval(body)
                    value = self._eval(tail) if tail is not None else None
            finally:
                self.in_user_code = False
            if value is None:
                return True, None, None
            if self.rich is not None and not isinstance(value, str):
                shown = self.rich(value)
                if shown is not None:
                    return True, shown, None
            return True, value if isinstance(value, str) else repr(value), None
        except BaseException as e:  # KeyboardInterrupt included: a cell never ends the agent
            return False, None, error_of(e)

    def run_interactive(self, source, filename):
        """Run a statement as Python's own REPL does: an expression's value goes to
        sys.displayhook (printed on the terminal, bound to _), and the source is not cached.
        Returns (ok, error) as run does."""
        try:
            try:
                code = compile(source + "\n", filename, "single", _TOP_LEVEL_AWAIT, dont_inherit=True)
                self.in_user_code = True
                self._eval(code)
            finally:
                self.in_user_code = False
            return True, None
        except BaseException as e:
            return False, error_of(e)
