"""Exec: run commands on the remote; output is discarded unless capture_output=True."""
import dataclasses
import subprocess
from typing import List, Optional, Union

from pythond_agent.toolbase import Tool
from rmote.process import process


@dataclasses.dataclass
class ExecResult:
    args: Union[List[str], str]
    returncode: int
    stdout: Optional[Union[bytes, str]]
    stderr: Optional[Union[bytes, str]]


def _result(cp: subprocess.CompletedProcess) -> ExecResult:
    return ExecResult(cp.args, cp.returncode, cp.stdout, cp.stderr)


class Exec(Tool):
    @staticmethod
    def command(*args: str, check: bool = True, env=None, cwd=None, stdin=None, capture_output: bool = False, text: bool = False) -> ExecResult:
        """Run argv without a shell. check=True raises CalledProcessError on a non-zero exit."""
        return _result(process(*args, stdin=stdin, capture_output=capture_output, text=text, env=env, cwd=cwd, check=check))

    @staticmethod
    def shell(expr: str, check: bool = True, env=None, cwd=None, stdin=None, capture_output: bool = False, text: bool = False) -> ExecResult:
        """Run one shell expression with /bin/sh."""
        return _result(process(expr, shell=True, stdin=stdin, capture_output=capture_output, text=text, env=env, cwd=cwd, check=check))
