"""`from pythond import Tool, process` on the controller side (the same names as on the agent)."""
from rmote.protocol import Protocol, RemoteError, RemoteExited, Tool, inline, process, async_process  # noqa: F401
