"""Imported first by every unit test here: puts the agent's package (agent/) on sys.path."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGENT = os.path.join(ROOT, "agent")
if AGENT not in sys.path:
    sys.path.insert(0, AGENT)
