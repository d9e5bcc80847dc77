"""A hub file as a seekable byte source: ranged reads in aligned blocks, cached, counted.

Sequential reads double their read-ahead (64 KiB up to 8 MiB per request); a seek starts small
again. Blocks are kept in a bounded LRU per file, so the engine's head sniff and the analyser's
own reads do not fetch the same bytes twice.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from typing import BinaryIO, cast

from mlsbom.hub.remote import Listing, read_range

BLOCK = 64 << 10
MAX_AHEAD = 128  # blocks per request (8 MiB)
MAX_CACHED = 256  # blocks kept per file (16 MiB)


class HubSource:
    """One file of a hub repository; `bytes_read` counts what was actually fetched."""

    def __init__(self, listing: Listing, path: str, size: int) -> None:
        self.listing = listing
        self.path = path
        self._size = size
        self.bytes_read = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    @property
    def size(self) -> int:
        return self._size

    def open(self) -> BinaryIO:
        return cast(BinaryIO, io.BufferedReader(_RangeReader(self), BLOCK))

    def read_blocks(self, first: int, last: int) -> bytes:
        """Blocks first..last (inclusive) joined; missing ones fetched in one request."""
        missing = [i for i in range(first, last + 1) if i not in self._blocks]
        if missing:
            lo, hi = missing[0], missing[-1]
            start, end = lo * BLOCK, min(self._size, (hi + 1) * BLOCK)
            data = read_range(self.listing, self.path, start, end)
            self.bytes_read += len(data)
            for i in range(lo, hi + 1):
                self._blocks[i] = data[(i - lo) * BLOCK : (i - lo + 1) * BLOCK]
        out = []
        for i in range(first, last + 1):
            self._blocks.move_to_end(i)
            out.append(self._blocks[i])
        while len(self._blocks) > MAX_CACHED:
            self._blocks.popitem(last=False)
        return b"".join(out)


class _RangeReader(io.RawIOBase):
    def __init__(self, source: HubSource) -> None:
        self._src = source
        self._pos = 0
        self._ahead = 1
        self._next = -1  # where a sequential read would continue

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._src.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = self._src.size
        want = min(len(buffer), size - self._pos)
        if want <= 0:
            return 0
        self._ahead = min(MAX_AHEAD, self._ahead * 2) if self._pos == self._next else 1
        first = self._pos // BLOCK
        last = min(
            (size - 1) // BLOCK, max((self._pos + want - 1) // BLOCK, first + self._ahead - 1)
        )
        data = self._src.read_blocks(first, last)
        offset = self._pos - first * BLOCK
        chunk = data[offset : offset + want]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        self._next = self._pos
        return len(chunk)
