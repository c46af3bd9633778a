"""FileSync: the remote half of upload/download with block reuse (driven by the controller).

A signature is (size, mode, mtime, sha256 per block). The controller sends only blocks whose
hash differs; unchanged blocks are copied from the old file into a temp file beside it, which
then atomically replaces the target with the source's modification time. An unchanged file
costs one signature call; as rsync's quick check, a file of the source's size and modification
time (to the nanosecond) counts as unchanged without hashing, unless the caller asks for
checksums.
"""
import hashlib
import os
import stat as _stat
import tempfile
import threading
import time
from typing import List, Optional

from pythond_agent.toolbase import Tool

MAX_BLOCK = 64 << 20


def _hash_blocks(path, size, block_size):
    """sha256 of each block; large files are hashed by two threads (hashlib releases the GIL)."""
    n = (size + block_size - 1) // block_size
    out = [None] * n

    def work(start, step):
        fd = os.open(path, os.O_RDONLY)
        try:
            buf = bytearray(block_size)
            view = memoryview(buf)
            for i in range(start, n, step):
                got = os.preadv(fd, [view], i * block_size) if hasattr(os, "preadv") else _pread_into(fd, view, i * block_size)
                out[i] = hashlib.sha256(view[:got]).hexdigest()
        finally:
            os.close(fd)

    if n <= 2:
        work(0, 1)
    else:
        t = threading.Thread(target=work, args=(1, 2))
        t.start()
        work(0, 2)
        t.join()
    return out


def _copy_range(src, dst, offset, length):
    """Copy a block of the old file into the temp file, in the kernel when it can."""
    done = 0
    copy = getattr(os, "copy_file_range", None)
    while done < length:
        if copy is not None:
            try:
                k = copy(src, dst, length - done, offset + done, offset + done)
            except OSError:
                copy = None
                continue
        else:
            data = os.pread(src, min(length - done, 1 << 20), offset + done)
            k = os.pwrite(dst, data, offset + done) if data else 0
        if k == 0:
            break
        done += k
    return done


def _pread_into(fd, view, offset):
    data = os.pread(fd, len(view), offset)
    view[: len(data)] = data
    return len(data)


class FileSync(Tool):
    @staticmethod
    def signature(path: str, block_size: int, quick: Optional[dict] = None, nofollow: bool = False) -> dict:
        """quick = {"size", "mtime_ns"} of the source: if they match, answer "same" unhashed.
        nofollow: a symlink at path is reported as {"type": "symlink"} (an upload replaces the
        link itself), not as what it points to."""
        if not 0 < block_size <= MAX_BLOCK:
            raise ValueError("block_size must be in 1..%d" % MAX_BLOCK)
        if nofollow and os.path.islink(path):
            return {"exists": True, "type": "symlink", "mode": 0}
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return {"exists": False}
        mode = _stat.S_IMODE(st.st_mode)
        if not _stat.S_ISREG(st.st_mode):
            return {"exists": True, "type": "other", "mode": mode}
        sig = {"exists": True, "type": "file", "size": st.st_size, "mode": mode, "mtime_ns": st.st_mtime_ns}
        if quick and quick.get("size") == st.st_size and quick.get("mtime_ns") == st.st_mtime_ns:
            sig["same"] = True
        else:
            sig["blocks"] = _hash_blocks(path, st.st_size, block_size)
        return sig

    @staticmethod
    def begin(path: str) -> str:
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".pythond-sync", dir=d)
        os.close(fd)
        return tmp

    @staticmethod
    def apply(tmp: str, source: str, ops: list) -> int:
        """ops: [offset, data] writes data; [offset, "copy", length] copies from source at offset."""
        written = 0
        fd = os.open(tmp, os.O_WRONLY)
        src = None
        try:
            for op in ops:
                offset = op[0]
                if len(op) == 2:
                    data = op[1]
                else:
                    if src is None:
                        src = os.open(source, os.O_RDONLY)
                    written += _copy_range(src, fd, offset, op[2])
                    continue
                mv = memoryview(data)
                while mv:
                    k = os.pwrite(fd, mv, offset)
                    mv = mv[k:]
                    offset += k
                written += len(data)
        finally:
            os.close(fd)
            if src is not None:
                os.close(src)
        return written

    @staticmethod
    def commit(tmp: str, path: str, size: int, mode: int, mtime_ns: Optional[int] = None) -> bool:
        os.truncate(tmp, size)
        FileSync.attrs(tmp, mode, mtime_ns)
        os.replace(tmp, path)
        return True

    @staticmethod
    def attrs(path: str, mode: int, mtime_ns: Optional[int] = None) -> bool:
        """Set mode and (if given) modification time, as the source file has them."""
        os.chmod(path, mode)
        if mtime_ns is not None:
            os.utime(path, ns=(time.time_ns(), mtime_ns))
        return True

    @staticmethod
    def abort(tmp: str) -> bool:
        try:
            os.unlink(tmp)
            return True
        except FileNotFoundError:
            return False

    @staticmethod
    def chmod(path: str, mode: int) -> bool:
        os.chmod(path, mode)
        return True

    @staticmethod
    def read(path: str, ranges: List[list]) -> List[bytes]:
        """Read [offset, length] ranges (download)."""
        fd = os.open(path, os.O_RDONLY)
        try:
            return [os.pread(fd, length, offset) for offset, length in ranges]
        finally:
            os.close(fd)

    @staticmethod
    def tree(path: str) -> List[list]:
        """[relative path, "dir"|"file"|"symlink", mode, size or link target(, mtime_ns of a file)], sorted."""
        out = []
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, path)
                st = os.lstat(full)
                if _stat.S_ISLNK(st.st_mode):
                    out.append([rel, "symlink", 0, os.readlink(full)])
                elif _stat.S_ISDIR(st.st_mode):
                    out.append([rel, "dir", _stat.S_IMODE(st.st_mode), 0])
                elif _stat.S_ISREG(st.st_mode):
                    out.append([rel, "file", _stat.S_IMODE(st.st_mode), st.st_size, st.st_mtime_ns])
        return out

    @staticmethod
    def mkdir(path: str, mode: int) -> bool:
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        return True

    @staticmethod
    def symlink(target: str, path: str) -> bool:
        try:
            if os.readlink(path) == target:
                return False
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            pass
        os.symlink(target, path)
        return True

    # -- trees in a few calls ------------------------------------------------------------

    @staticmethod
    def probe(paths: List[str]) -> List[list]:
        """[own type (lstat), followed type (stat), followed mode] per path; a type is one of
        "missing", "file", "dir", "symlink", "other"."""
        out = []
        for p in paths:
            try:
                mode = _stat.S_IMODE(os.stat(p).st_mode)
            except OSError:
                mode = 0
            out.append([_kind(p, os.lstat), _kind(p, os.stat), mode])
        return out

    @staticmethod
    def plan_tree(root: str, mode: int, entries: List[list], force: bool = False) -> dict:
        """Make a tree's directories and symlinks under root and say which files must travel.

        entries, parents before children: ["d", rel, mode] | ["l", rel, target] |
        ["f", rel, mode, size, mtime_ns or None]. A file of the source's size and modification
        time (when given) counts as unchanged (rsync's quick check), its mode set if it differs.
        A directory where the source has a non-directory, or the reverse, is a conflict: refused
        before anything changes unless force, which removes what is in the way. Returns
        {"todo": [rel of files to transfer], "changed": number of entries changed here}.
        """
        conflicts = []
        root_kind = _kind(root, os.stat)  # the root may be a link to a directory
        if root_kind not in ("missing", "dir"):
            conflicts.append("%s (%s; the source is a directory)" % (root, root_kind))
        for e in entries:
            rel = e[1]
            if not rel or os.path.isabs(rel) or ".." in rel.split("/"):
                raise ValueError("%r: not a path inside the tree" % (rel,))
            have = _kind(os.path.join(root, rel), os.lstat)
            if have != "missing" and (have == "dir") != (e[0] == "d"):
                conflicts.append("%s (%s; the source has a %s)" % (os.path.join(root, rel), have, _KINDS[e[0]]))
        if conflicts and not force:
            more = " and %d more" % (len(conflicts) - 3) if len(conflicts) > 3 else ""
            raise FileExistsError("refusing to replace %s%s" % (", ".join(conflicts[:3]), more))
        changed = 0
        if root_kind not in ("missing", "dir"):
            _remove(root)
            root_kind = "missing"
        if root_kind == "missing":
            os.makedirs(root)
            os.chmod(root, mode)
            changed += 1
        else:
            changed += _chmod_if(root, mode)
        todo = []
        for e in entries:
            path = os.path.join(root, e[1])
            have = _kind(path, os.lstat)
            if have != "missing" and (have == "dir") != (e[0] == "d"):
                _remove(path)
                have = "missing"
            if e[0] == "d":
                changed += _mkdir_or_chmod(path, e[2], have == "missing")
            elif e[0] == "l":
                changed += FileSync.symlink(e[2], path)
            else:
                if have == "symlink":
                    os.unlink(path)  # a link where the source has a file: replace the link, never write through it
                    have = "missing"
                st = os.lstat(path) if have == "file" else None
                if st is not None and e[4] is not None and st.st_size == e[3] and st.st_mtime_ns == e[4]:
                    changed += _chmod_if(path, e[2])
                else:
                    todo.append(e[1])
        return {"todo": todo, "changed": changed}


_KINDS = {"d": "directory", "l": "symlink", "f": "file"}


def _kind(path, stat_fn):
    try:
        m = stat_fn(path).st_mode
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:  # a parent is a file
        return "missing"
    if _stat.S_ISLNK(m):
        return "symlink"
    if _stat.S_ISDIR(m):
        return "dir"
    return "file" if _stat.S_ISREG(m) else "other"


def _mkdir_or_chmod(path, mode, missing):
    if missing:
        os.mkdir(path)
        os.chmod(path, mode)  # not mkdir's mode: the umask would narrow it
        return 1
    return _chmod_if(path, mode)


def _chmod_if(path, mode):
    if _stat.S_IMODE(os.lstat(path).st_mode) == mode:
        return 0
    os.chmod(path, mode)
    return 1


def _remove(path):
    import shutil

    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)
