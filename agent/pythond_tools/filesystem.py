"""FileSystem: idempotent file operations. Mutators return True when they changed something."""
import difflib
import glob as _glob
import os
import re
import shutil
import stat as _stat
import tempfile
from typing import List, Optional

from pythond_agent.toolbase import Tool


def _owner_ids(owner, group):
    uid = gid = -1
    if owner is not None:
        import pwd

        uid = owner if isinstance(owner, int) else pwd.getpwnam(owner).pw_uid
    if group is not None:
        import grp

        gid = group if isinstance(group, int) else grp.getgrnam(group).gr_gid
    return uid, gid


def atomic_write(path, data, mode=0o644, owner=None, group=None):
    """Write to a temp file in the same directory, fsync, then rename over path."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".pythond-tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        uid, gid = _owner_ids(owner, group)
        if uid != -1 or gid != -1:
            os.chown(tmp, uid, gid)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class FileSystem(Tool):
    @staticmethod
    def read_bytes(path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    @staticmethod
    def read_str(path: str, encoding: str = "utf-8") -> str:
        with open(path, encoding=encoding) as f:
            return f.read()

    @staticmethod
    def write(path: str, content, mode: int = 0o644, owner=None, group=None) -> bool:
        """Atomically replace path with content (bytes or str) unless it already matches."""
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        uid, gid = _owner_ids(owner, group)
        try:
            st = os.lstat(path)
            if _stat.S_ISREG(st.st_mode) and _stat.S_IMODE(st.st_mode) == mode and uid in (-1, st.st_uid) and gid in (-1, st.st_gid) and st.st_size == len(data):
                with open(path, "rb") as f:
                    if f.read() == data:
                        return False
        except FileNotFoundError:
            pass
        atomic_write(path, data, mode, owner, group)
        return True

    @staticmethod
    def stat(path: str) -> dict:
        """lstat as a plain object; exists=False when missing."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return {"exists": False}
        kind = "file" if _stat.S_ISREG(st.st_mode) else "dir" if _stat.S_ISDIR(st.st_mode) else "symlink" if _stat.S_ISLNK(st.st_mode) else "other"
        return {"exists": True, "type": kind, "size": st.st_size, "mode": _stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "mtime": st.st_mtime}

    @staticmethod
    def glob(path: str, pattern: str) -> List[str]:
        return sorted(_glob.glob(os.path.join(path, pattern), recursive=True))

    @staticmethod
    def line_in_file(path: str, line: str, regexp: Optional[str] = None, create: bool = False) -> str:
        """Ensure `line` is present (replacing the first line matching regexp); returns a unified diff or ""."""
        try:
            with open(path, encoding="utf-8") as f:
                old = f.read()
            mode = _stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            if not create:
                raise
            old, mode = "", 0o644
        lines = old.splitlines()
        if line in lines:
            return ""
        new_lines = list(lines)
        rx = re.compile(regexp) if regexp else None
        for i, existing in enumerate(lines):
            if rx is not None and rx.search(existing):
                new_lines[i] = line
                break
        else:
            new_lines.append(line)
        new = "\n".join(new_lines) + "\n"
        atomic_write(path, new.encode("utf-8"), mode)
        return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), path, path))

    @staticmethod
    def directory(path: str, mode: int = 0o755, owner=None, group=None) -> bool:
        changed = False
        if not os.path.isdir(path):
            os.makedirs(path, mode)
            changed = True
        st = os.stat(path)
        if _stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)
            changed = True
        uid, gid = _owner_ids(owner, group)
        if uid not in (-1, st.st_uid) or gid not in (-1, st.st_gid):
            os.chown(path, uid, gid)
            changed = True
        return changed

    @staticmethod
    def absent(path: str, recursive: bool = False) -> bool:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        if _stat.S_ISDIR(st.st_mode):
            if recursive:
                shutil.rmtree(path)
            else:
                os.rmdir(path)
        else:
            os.unlink(path)
        return True
