"""`from pythond import Tool, process` for tool files running on the agent."""
from pythond_agent.toolbase import Tool, inline  # noqa: F401
from rmote.process import process, async_process  # noqa: F401
