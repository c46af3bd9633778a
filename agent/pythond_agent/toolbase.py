"""The Tool base class and @inline, as seen by tool code on the agent."""


class ToolMeta(type):
    """Rejects __init__ (tools are never instantiated by callers) and tags each method with its class."""

    def __new__(mcs, name, bases, namespace, **kwargs):
        if "__init__" in namespace:
            raise TypeError("__init__ cannot be defined in a Tool (class %s)" % name)
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        for value in namespace.values():
            fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
            if callable(fn):
                try:
                    fn.__tool_class__ = cls
                except (AttributeError, TypeError):
                    pass
        return cls


class Tool(metaclass=ToolMeta):
    """Inherit from Tool; methods (static, class or instance) run on the remote agent."""


def inline(fn):
    """Run a short synchronous method on the agent's dispatcher instead of a pool thread.

    Saves the thread hand-off; while it runs, the agent reads no further requests.
    """
    target = fn.__func__ if isinstance(fn, (staticmethod, classmethod)) else fn
    flags = getattr(getattr(target, "__code__", None), "co_flags", 0)
    if flags & (0x80 | 0x200):  # CO_COROUTINE | CO_ASYNC_GENERATOR
        raise TypeError("inline applies to synchronous methods; a coroutine already runs on the loop")
    target.__tool_inline__ = True
    return fn
