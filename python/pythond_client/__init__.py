"""Controller-side helpers shared by the python/ package: bootstrap and the agent's codec."""
