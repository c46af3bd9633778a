"""A session agent on another host, detached from the transport that started it.

`pysh new work --via "ssh web01"` bootstraps the agent through the prefix like any other; with
"detach" in its config the bootstrap process splits: the agent proper (keeper + interpreter,
session.py) goes into a session and process group of its own, with its private socket in
~/.pythond/agents/ (0700: a directory a logout does not delete, unlike $XDG_RUNTIME_DIR),
its stdio on /dev/null and its log; the bootstrap process stays behind as the relay of the
daemon's first link (relay.py). When the transport drops, the relay ends and the agent lives
on: cells keep running, and the daemon comes back through a new relay.
"""
import os
import socket
import time

from pythond_agent import relay
from pythond_agent.link import Link

DIR_MODE = 0o700


def agent_dir():
    """~/.pythond/agents, made 0700 if missing; refused if it is not ours and private."""
    path = os.path.join(os.path.expanduser("~"), ".pythond", "agents")
    os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    st = os.lstat(path)
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise PermissionError("%s is not a directory of this user" % path)
    if st.st_mode & 0o077:
        raise PermissionError("%s is open to others (mode %o): pythond keeps session sockets there only if it is 0700" % (path, st.st_mode & 0o777))
    return path


def log_line(path, text):
    """One line in the agent's log (0600), where a remote agent says why it ends."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, ("%s pid %d: %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), os.getpid(), text)).encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        pass


def main(pin, pout, config):
    out = Link(pin, pout)
    try:
        directory = agent_dir()
        from pythond_agent import logind

        logind.escape_plan = logind.plan()  # fails clearly if logout would kill the agent
        base = os.path.join(directory, os.urandom(4).hex())
        config["socket"] = base + ".sock"
        config["log"] = base + ".log"
        if len(config["socket"].encode()) > 100:
            raise OSError("socket path %s is too long for a Unix socket (set a shorter HOME)" % config["socket"])
    except Exception as e:
        out.send({"k": "fatal", "type": type(e).__name__, "message": str(e)})
        out.wait_written()
        return 1
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _detached(w, pin, pout, config)  # never returns
    os.close(w)
    os.waitpid(pid, 0)  # the intermediate process, gone as soon as the agent is on its own
    boot = Link(r, r)
    first = None
    for header, blobs in boot.frames():
        if header.get("k") == "code":
            continue
        first = header
        break
    boot.close()
    if first is None or first.get("k") != "hello":
        out.send(first if first is not None else {"k": "fatal", "type": "AgentError", "message": "the detached agent ended before its hello"})
        out.wait_written()
        return 1
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(config["socket"])
    except OSError as e:
        out.send({"k": "fatal", "type": type(e).__name__, "message": relay.gone_reason(config["socket"], e)})
        out.wait_written()
        return 1
    relay.relay(pin, pout, sock)  # the first link: the socket's hello, proof, then the session
    return 0


def _detached(boot_fd, pin, pout, config):
    """In the forked child: leave the transport's session and process group, fork again (the
    agent is then no session leader and can never get a controlling terminal), run the agent."""
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        from pythond_agent import logind

        logind.escape()  # out of a login session whose end would kill us, where needed
        null = os.open(os.devnull, os.O_RDWR)
        logfd = os.open(config["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(logfd, 2)  # a traceback of the agent's own lands in its log
        os.close(null)
        os.close(logfd)
        for fd in (pin, pout):
            os.close(fd)
        os.environ.update(config.get("env") or {})  # --env, for the cells there
        log_line(config["log"], "started for session %r (idle TTL %s s)" % (config.get("name"), config.get("idle_ttl")))
        from pythond_agent import session

        code = session.main(boot_fd, boot_fd, config)
    except BaseException as e:
        try:
            Link(boot_fd, boot_fd).send({"k": "fatal", "type": type(e).__name__, "message": str(e)})
        except Exception:
            pass
        code = 1
    os._exit(code or 0)
