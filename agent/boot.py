# pythond agent, stage 2. Executed by the stage-1 line typed into `python3 -qui`.
# The controller substitutes the bundle placeholder below with a JSON object of {module: source}:
# JSON strings are Python string literals, so it reads as a dict literal (no json import here).
# Everything here must run on a bare python3 >= 3.9 with the standard library only.


def _pythond_boot(sources):
    import marshal
    import os
    import sys

    if sys.version_info < (3, 9):
        # Said before anything else: the agent's modules need 3.9, and failing inside them
        # would read as a random SyntaxError or ImportError.
        sys.stderr.write("pythond needs Python 3.9 or newer; %s is Python %s\n" % (sys.executable or "this interpreter", ".".join(map(str, sys.version_info[:3]))))
        sys.stderr.flush()
        os._exit(5)
    # importlib.machinery is frozen and cheap; importlib.abc/util pull in typing, pathlib,
    # tempfile, lzma ... (~24 ms and ~4 MiB on a bare python3), so the importer is duck-typed.
    import importlib.machinery
    from importlib._bootstrap_external import MAGIC_NUMBER

    # Private protocol fds first, before anything can write: duplicates are close-on-exec,
    # and fds 0/1 point at /dev/null so no print, child process or C library reaches the link.
    pin, pout = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)

    cached = {}  # module -> marshalled code, from the controller's code cache (this Python's)
    compiled = {}  # module -> code compiled here from source, for report_code

    class BundleImporter:
        from_cache = []  # modules whose bytecode came from the controller's cache

        def find_spec(self, name, path=None, target=None):
            if name not in sources:
                return None
            is_pkg = any(k.startswith(name + ".") for k in sources)
            return importlib.machinery.ModuleSpec(name, self, origin="<pythond-agent:%s>" % name, is_package=is_pkg)

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            name = module.__spec__.name
            code = None
            if name in cached:
                try:
                    code = marshal.loads(cached.pop(name))
                    self.from_cache.append(name)
                except Exception:
                    code = None
            if code is None:
                code = compiled[name] = compile(sources[name], "<pythond-agent:%s>" % name, "exec", dont_inherit=True)
            exec(code, module.__dict__)

        def pythond_report_code(self, send):
            """Hand the controller the bytecode of what was compiled here, for the next agent of
            this interpreter (src/bootstrap/code-cache.ts): unmarshalling beats compiling."""
            if compiled:  # only what the cache lacked: each report adds to it
                send(marshal.dumps((MAGIC_NUMBER, {n: marshal.dumps(c) for n, c in compiled.items()})))
                compiled.clear()

    sys.meta_path.insert(0, BundleImporter())
    # _signal, not signal: the signal module builds its IntEnums with enum (~3 ms at start).
    import _signal

    _signal.signal(_signal.SIGINT, _signal.default_int_handler)

    def read_exact(n):
        out = b""
        while len(out) < n:
            chunk = os.read(pin, n - len(out))
            if not chunk:
                os._exit(3)
            out += chunk
        return out

    def read_u32():
        return int.from_bytes(read_exact(4), "big")

    # Cached bytecode: u32 count, then per part u32 length + marshal.dumps((magic, {module: code})).
    for _ in range(read_u32()):
        part = read_exact(read_u32())
        try:
            magic, mods = marshal.loads(part)
            if magic == MAGIC_NUMBER:  # bytecode of this very Python version, else unusable
                cached.update(mods)
        except Exception:
            pass  # compile from source instead
    size = read_u32()
    if size > (1 << 20):
        os._exit(4)
    from pythond_agent.link import loads  # the C scanner without the json package (re, enum)

    config = loads(read_exact(size))
    os.write(pout, b"\nPYTHOND READY 1\n")
    from pythond_agent import main

    code = main.run(pin, pout, config)
    os._exit(code or 0)


_pythond_boot(__PYTHOND_BUNDLE__)
