"""Would the host's login manager kill a detached agent at logout, and how to avoid it.

systemd-logind with KillUserProcesses=yes ends every process of a login session's scope when
the session ends (an ssh logout), setsid or not. A detached agent (detach.py) then moves
itself into a transient scope of the user's systemd manager, as `systemd-run --user --scope`
does (StartTransientUnit with our pid, through busctl). Where that is needed and impossible,
`new` fails with a message that says so, rather than making a session that dies at logout.
PYTHOND_KILL_USER_PROCESSES=yes|no overrides the detection (a host whose logind cannot be
asked).
"""
import os
import re
import shutil
import subprocess

escape_plan = None  # set by detach.main before the fork: the busctl path, or None


def _in_login_session():
    try:
        with open("/proc/self/cgroup") as f:
            return re.search(r"/session-[^/]*\.scope", f.read()) is not None
    except OSError:
        return False


def _kill_user_processes():
    forced = os.environ.get("PYTHOND_KILL_USER_PROCESSES", "").lower()
    if forced in ("yes", "no"):
        return forced == "yes"
    if not _in_login_session():
        return False
    busctl = shutil.which("busctl")
    if busctl:
        try:
            r = subprocess.run([busctl, "get-property", "org.freedesktop.login1", "/org/freedesktop/login1",
                                "org.freedesktop.login1.Manager", "KillUserProcesses"],
                               capture_output=True, text=True, timeout=5)
            if r.returncode == 0:
                return r.stdout.strip() == "b true"
        except (OSError, subprocess.SubprocessError):
            pass
    value = False  # systemd's default; the last setting read wins, as logind reads them
    for path in _conf_files():
        try:
            with open(path) as f:
                for line in f:
                    m = re.match(r"\s*KillUserProcesses\s*=\s*(\S+)", line)
                    if m:
                        value = m.group(1).lower() in ("yes", "true", "1", "on")
        except OSError:
            pass
    return value


def _conf_files():
    files = ["/etc/systemd/logind.conf"]
    for d in ("/usr/lib/systemd/logind.conf.d", "/run/systemd/logind.conf.d", "/etc/systemd/logind.conf.d"):
        try:
            files += sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(".conf"))
        except OSError:
            pass
    return files


def plan():
    """None if logout leaves a detached agent alone; else busctl's path to escape with.
    Raises, with what to do, when logout would kill the agent and nothing can prevent it."""
    if not _kill_user_processes():
        return None
    busctl = shutil.which("busctl")
    reachable = False
    if busctl:
        try:
            reachable = subprocess.run([busctl, "--user", "get-property", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                        "org.freedesktop.systemd1.Manager", "Version"], capture_output=True, timeout=5).returncode == 0
        except (OSError, subprocess.SubprocessError):
            pass
    if not reachable:
        raise RuntimeError(
            "this host's login manager ends a user's processes at logout (logind KillUserProcesses=yes), "
            "and no systemd user manager is reachable (busctl --user) to keep the session's agent out of the "
            "login session: ask for `loginctl enable-linger %s` or KillUserProcesses=no on that host" % _user())
    return busctl


def escape():
    """Move this process into a transient scope of the user's manager (systemd-run --user --scope)."""
    if escape_plan is None:
        return
    unit = "pythond-agent-%d.scope" % os.getpid()
    subprocess.run([escape_plan, "--user", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                    "org.freedesktop.systemd1.Manager", "StartTransientUnit", "ssa(sv)a(sa(sv))", unit, "fail",
                    "1", "PIDs", "au", "1", str(os.getpid()), "0"], capture_output=True, timeout=10, check=True)


def _user():
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except Exception:
        return "$USER"
