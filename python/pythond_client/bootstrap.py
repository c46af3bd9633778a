"""Build the bytes that turn a bare `python3 -qui` into a pythond agent (same as src/bootstrap/payload.ts).

The agent's files are read from ../agent next to this package, so the Python and TypeScript
controllers bootstrap the very same agent.
"""
import importlib.util
import json
import os
import struct
import zlib

READY_LINE = b"PYTHOND READY 1"
AGENT_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "agent"))

_payload = None


def agent_modules(root=AGENT_DIR):
    modules = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if not name.endswith(".py") or path == os.path.join(root, "boot.py"):
                continue
            mod = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
            if mod.endswith(".__init__"):
                mod = mod[: -len(".__init__")]
            with open(path, encoding="utf-8") as f:
                modules[mod] = f.read()
    return modules


def agent_payload():
    global _payload
    if _payload is None:
        with open(os.path.join(AGENT_DIR, "boot.py"), encoding="utf-8") as f:
            boot = f.read()
        bundle = json.dumps(agent_modules(), sort_keys=True)  # a JSON object reads as a dict literal
        _payload = zlib.compress(boot.replace("__PYTHOND_BUNDLE__", bundle).encode("utf-8"), 9)
    return _payload


def stage1(n):
    return (
        'import os,zlib;_p=b"";exec("while len(_p)<%d:_p+=os.read(0,%d-len(_p)) or os._exit(3)");'
        "exec(zlib.decompress(_p))\n" % (n, n)
    ).encode()


def bootstrap_bytes(config, stage1_in_argv=False):
    """What goes to the interpreter's stdin: stage 1 (unless it was given as `-c`), stage 2, no
    cached bytecode (count 0), then the config frame (docs/PROTOCOL.md, "Bootstrap")."""
    payload = agent_payload()
    cfg = json.dumps(config).encode("utf-8")
    return (b"" if stage1_in_argv else stage1(len(payload))) + payload + struct.pack(">II", 0, len(cfg)) + cfg


def load_agent_module(name):
    """Import one of the agent's own modules (codec, link) for use on the controller side."""
    path = os.path.join(AGENT_DIR, *name.split(".")) + ".py"
    spec = importlib.util.spec_from_file_location("pythond_client._agent_" + name.replace(".", "_"), path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
