"""A byte relay between a transport's stdin/stdout and a session agent's Unix socket.

It is what makes a session on another host reachable through any command prefix (`ssh web01`,
`docker exec -i box`, `sudo -u svc`): the detached agent (detach.py) listens on its private
socket there, and this relay, run through the prefix, joins the daemon's link to it. The
process that bootstrapped the agent relays its first link; after a drop the daemon runs the
prefix again with this module alone as the program (src/bootstrap/relay-payload.ts: stage 1,
then this source and a call of standalone(path)), so it must need nothing but the standard
library and nothing else from the agent. Python 3.9 or newer.
"""
import os
import socket
import threading

_CHUNK = 1 << 18


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def relay(in_fd, out_fd, sock):
    """Copy both ways until the socket side ends or the transport side can take no more. The
    transport's EOF is passed on as a half close: the agent then ends that link itself."""

    def inbound():
        try:
            while True:
                data = os.read(in_fd, _CHUNK)
                if not data:
                    break
                sock.sendall(data)
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    threading.Thread(target=inbound, name="pythond-relay-in", daemon=True).start()
    try:
        while True:
            data = sock.recv(_CHUNK)
            if not data:
                break
            _write_all(out_fd, data)
    except OSError:
        pass
    sock.close()


def gone_reason(path, error):
    """Why nobody answers at path, with the last line of the agent's log (why it ended)."""
    log = path[: -len(".sock")] + ".log" if path.endswith(".sock") else path + ".log"
    last = ""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 4096))
            lines = [l for l in f.read().decode("utf-8", "replace").splitlines() if l.strip()]
            last = lines[-1] if lines else ""
    except OSError:
        pass
    what = "no agent at %s" % path if isinstance(error, FileNotFoundError) else "the agent at %s does not answer (%s)" % (path, error)
    return what + ("; its log says: %s" % last if last else "")


def standalone(path):
    """The reconnect program: join the daemon to the agent at path, or say it is gone."""
    pin, pout = os.dup(0), os.dup(1)  # private, as the agent's: nothing else may write here
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(os.path.expanduser(path))
    except OSError as e:
        reason = gone_reason(path, e).replace("\n", " ")
        _write_all(pout, ("\nPYTHOND GONE %s\n" % reason).encode("utf-8", "replace"))
        os._exit(7)
    _write_all(pout, b"\nPYTHOND READY 1\n")
    relay(pin, pout, sock)
    os._exit(0)


def end_agent(path, pid):
    """The last resort of `pysh kill` when the agent did not hear it (a cell holding the GIL in
    C code starves its reader thread): what SIGKILL to the process group is for a local agent.
    The socket goes first, so the keeper does not wait for anyone to collect last words."""
    import signal
    import time

    pout = os.dup(1)
    for _ in range(20):  # the kill may still be under way
        if not os.path.exists(path):
            break
        time.sleep(0.1)
    if os.path.exists(path):
        try:
            os.unlink(path)
        except OSError:
            pass
        try:
            os.killpg(pid, signal.SIGKILL)  # the interpreter's group: it and its cells' children
        except OSError:
            pass
    _write_all(pout, b"\nPYTHOND READY 1\n")
    os._exit(0)
