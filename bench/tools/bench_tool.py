import os

from rmote.protocol import Tool, inline


_RANDOM = os.urandom(8 << 20)  # the source returns slices of this: time the transfer, not urandom


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
        return _RANDOM[:n]

    @staticmethod
    async def items(n: int, size: int):
        item = b"x" * size
        for _ in range(n):
            yield item
