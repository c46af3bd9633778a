"""process() / async_process() with rmote's contract; the same code the agent runs."""
from pythond_client.bootstrap import load_agent_module

_impl = load_agent_module("rmote.process")
process = _impl.process
async_process = _impl.async_process
