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
    def signature(path: str, block_size: int, quick: Optional[dict] = None) -> dict:
        """quick = {"size", "mtime_ns"} of the source: if they match, answer "same" unhashed."""
        if not 0 < block_size <= MAX_BLOCK:
            raise ValueError("block_size must be in 1..%d" % MAX_BLOCK)
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
        """[relative path, "dir"|"file"|"symlink", mode, size or link target] for a directory, sorted."""
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
                    out.append([rel, "file", _stat.S_IMODE(st.st_mode), st.st_size])
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
