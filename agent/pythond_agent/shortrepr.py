"""Short representations of namespace values for `vars` with reprs (python_vars of MCP).

Answered on the reader thread while a cell may run, so no user code runs here: plain data
(numbers, strings, bytes, small containers of those) is shown with the builtin reprs, cut
short; anything else by its type, plus length or shape where the type is a known one.
"""

from types import ModuleType

_MAX = 120
_ITEMS = 8
_SCALARS = (int, float, complex, bool, type(None))


def _cut(text):
    return text if len(text) <= _MAX else text[: _MAX - 1] + "…"


def _plain(v, depth):
    t = type(v)
    if t is int:
        return repr(v) if v.bit_length() < 200 else "<int of %d bits>" % v.bit_length()
    if t in _SCALARS:
        return repr(v)
    if t in (str, bytes, bytearray):
        if len(v) <= _MAX:
            return repr(v)
        return "%s… (%d %s)" % (repr(v[: _MAX // 2]), len(v), "chars" if t is str else "bytes")
    if t in (list, tuple, set, frozenset, dict) and depth < 2:
        items = list(v.items())[:_ITEMS] if t is dict else list(v)[:_ITEMS]
        if t is dict:
            inner = ", ".join("%s: %s" % (_plain(k, depth + 1), _plain(x, depth + 1)) for k, x in items)
        else:
            inner = ", ".join(_plain(x, depth + 1) for x in items)
        more = ", …" if len(v) > _ITEMS else ""
        open_, close = {list: "[]", tuple: "()", dict: "{}"}.get(t, "{}")
        text = "%s%s%s%s" % (open_, inner, more, close)
        if t in (set, frozenset):
            text = "%s(%s)" % (t.__name__, text)
        return _cut(text) + (" (%d items)" % len(v) if more else "")
    return _other(v)


def _other(v):
    t = type(v)
    mod = getattr(t, "__module__", "") or ""
    name = getattr(t, "__qualname__", t.__name__)
    if isinstance(v, ModuleType):  # the lazily imported preloads too, without loading them
        return "<module %s>" % v.__dict__.get("__name__", "?")
    if isinstance(v, type):
        return "<class %s.%s>" % (v.__module__, v.__qualname__)
    if callable(v) and hasattr(v, "__code__"):
        return "<function %s>" % getattr(v, "__qualname__", "?")
    shape = None
    if mod.split(".")[0] in ("numpy", "pandas", "torch", "polars"):
        shape = getattr(v, "shape", None)
        if shape is not None and not isinstance(shape, tuple):
            shape = tuple(shape) if hasattr(shape, "__iter__") else None
    label = name if mod in ("builtins", "") else "%s.%s" % (mod, name)
    return "<%s%s>" % (label, " shape=%s" % (shape,) if shape is not None else "")


def short_reprs(ns, names):
    out = {}
    for n in names:
        try:
            out[n] = _plain(ns[n], 0)
        except Exception as e:  # a container changed size under us, or a name went away
            out[n] = "<%s>" % type(e).__name__
    return out
