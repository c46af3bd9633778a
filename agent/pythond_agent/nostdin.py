"""input() in an agent cell: agents have no stdin (fd 0 is /dev/null), so instead of Python's
bare "EOF when reading a line" the cell fails at once saying why and what to do. Only while
sys.stdin is still the agent's own: the human REPL swaps in the terminal, where input() works.
"""
import builtins
import sys


def install(session):
    agent_stdin = sys.stdin
    original = builtins.input

    def input(prompt=""):
        if sys.stdin is agent_stdin:
            raise EOFError(
                "input() has nothing to read: an agent cell has no stdin. Pass one with "
                "pysh run --stdin FILE, or type the line at the session's prompt (pysh attach %s)" % session.name
            )
        return original(prompt)

    input.__doc__ = original.__doc__
    builtins.input = input
