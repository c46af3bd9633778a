"""process() / async_process(): subprocess.run that can never touch the protocol stream.

stdin is DEVNULL unless given; stdout/stderr are DEVNULL unless capture_output=True. Children
start in their own session so a cancelled or timed-out call can kill the whole process group.
"""
import os

try:
    from pythond_agent import callctx as _callctx
except ImportError:  # pragma: no cover - used outside the agent
    _callctx = None


def _stdin_args(stdin, text):
    import subprocess
    if stdin is None:
        return {"stdin": subprocess.DEVNULL}
    if isinstance(stdin, (bytes, bytearray, memoryview)):
        if text:
            raise TypeError("stdin is bytes but text=True")
        return {"input": bytes(stdin)}
    if isinstance(stdin, str):
        return {"input": stdin if text else stdin.encode("utf-8")}
    raise TypeError("stdin must be bytes or str, not %s" % type(stdin).__name__)


def process(*argv, stdin=None, capture_output=False, text=False, env=None, shell=False, check=False, cwd=None):
    import subprocess  # imported on first use: it costs a bare agent ~3 ms and ~1 MB

    if shell and len(argv) == 1:
        args = argv[0]
    else:
        args = list(argv)
    kw = _stdin_args(stdin, text)
    out = subprocess.PIPE if capture_output else subprocess.DEVNULL
    with subprocess.Popen(
        args,
        stdin=subprocess.PIPE if "input" in kw else subprocess.DEVNULL,
        stdout=out,
        stderr=out,
        env=env,
        shell=shell,
        cwd=cwd,
        text=text,
        start_new_session=True,
    ) as proc:
        token = _callctx.track_process_group(proc.pid) if _callctx else None
        try:
            stdout, stderr = proc.communicate(kw.get("input"))
        except BaseException:
            _kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            if token is not None:
                _callctx.untrack_process_group(token)
    result = subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result


def _kill_group(pid):
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


async def async_process(*argv, stdin=None, capture_output=False, text=False, env=None, shell=False, check=False, cwd=None, timeout=None):
    import asyncio
    import subprocess

    kw = _stdin_args(stdin, text)
    data = kw.get("input")
    if isinstance(data, str):
        data = data.encode("utf-8")
    out = asyncio.subprocess.PIPE if capture_output else asyncio.subprocess.DEVNULL
    stdin_mode = asyncio.subprocess.PIPE if data is not None else asyncio.subprocess.DEVNULL
    if shell:
        if len(argv) != 1:
            raise ValueError("shell=True requires exactly one argument")
        proc = await asyncio.create_subprocess_shell(argv[0], stdin=stdin_mode, stdout=out, stderr=out, env=env, cwd=cwd, start_new_session=True)
        args = argv[0]
    else:
        proc = await asyncio.create_subprocess_exec(*argv, stdin=stdin_mode, stdout=out, stderr=out, env=env, cwd=cwd, start_new_session=True)
        args = list(argv)
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(data), timeout)
    except asyncio.TimeoutError:
        _kill_group(proc.pid)
        await proc.wait()
        raise subprocess.TimeoutExpired(args, timeout) from None
    except BaseException:
        _kill_group(proc.pid)
        await proc.wait()
        raise
    if text:
        stdout = stdout.decode() if stdout is not None else None
        stderr = stderr.decode() if stderr is not None else None
    result = subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result
