"""`from rmote.protocol import Tool, process, inline` for tool files running on the agent."""
from pythond_agent.toolbase import Tool, inline  # noqa: F401
from rmote.process import process, async_process  # noqa: F401


class Protocol:
    """Placeholder so controller scripts synced as whole modules import cleanly on the agent.

    The controller-side Protocol lives in the python/ package; it cannot run here.
    """

    def __init__(self, *args, **kwargs):
        raise RuntimeError("rmote.protocol.Protocol is the controller side; it cannot run on the agent")
