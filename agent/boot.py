# pythond agent, stage 2. Executed by the stage-1 line typed into `python3 -qui`.
# The controller substitutes the bundle placeholder below with a JSON string literal of {module: source}.
# Everything here must run on a bare python3 >= 3.9 with the standard library only.


def _pythond_boot(bundle_json):
    import json
    import marshal
    import os
    import signal
    import sys
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

    sources = json.loads(bundle_json)
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
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def read_exact(n):
        out = b""
        while len(out) < n:
            chunk = os.read(pin, n - len(out))
            if not chunk:
                os._exit(3)
            out += chunk
        return out

    size = int.from_bytes(read_exact(4), "big")
    if size > (1 << 20):
        os._exit(4)
    config = json.loads(read_exact(size))
    for n in config.get("code_parts", ()):
        part = read_exact(n)
        try:
            magic, mods = marshal.loads(part)
            if magic == MAGIC_NUMBER:  # bytecode of this very Python version, else unusable
                cached.update(mods)
        except Exception:
            pass  # compile from source instead
    os.write(pout, b"\nPYTHOND READY 1\n")
    from pythond_agent import main

    code = main.run(pin, pout, config)
    os._exit(code or 0)


_pythond_boot(__PYTHOND_BUNDLE__)
