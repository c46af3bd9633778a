import os

from rmote.protocol import Tool, inline


_RANDOM = []  # source() returns slices of one random buffer: time the transfer, not urandom


class Bench(Tool):
    @staticmethod
    def noop():
        return None

    @staticmethod
    @inline
    def noop_inline():
        return None

    @staticmethod
    def echo(x):
        return x

    @staticmethod
    def sink(data: bytes) -> int:
        return len(data)

    @staticmethod
    def source(n: int) -> bytes:
        if not _RANDOM or len(_RANDOM[0]) < n:
            _RANDOM[:] = [os.urandom(n)]
        return _RANDOM[0][:n]

    @staticmethod
    async def items(n: int, size: int):
        item = b"x" * size
        for _ in range(n):
            yield item
