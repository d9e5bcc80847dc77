"""Materialise a streamed container once, so its members never re-decompress the parent.

A zip or tar that is itself a member (or the output of a decompressor) arrives as a stream
that can only be produced by decompressing again. Containers copy it once, within the byte
budget, into a `SpooledSource`: small ones stay in memory, larger ones go to an unnamed
temporary file read with `os.pread` (each reader keeps its own position, no shared seek).
Every child then reads from the spool: each nesting level is decompressed exactly once.
"""

from __future__ import annotations

import io
import os
import tempfile
import weakref
from typing import BinaryIO, cast

from mlsbom.sources import BytesSource, Source, SourceLimit, StreamSource, WindowReader

MEMORY_BYTES = 1 << 20  # spools up to this size stay in memory


class _PreadReader(WindowReader):
    """A seekable read-only view of a file descriptor it does not own."""

    def __init__(self, fd: int, size: int) -> None:
        super().__init__(size)
        self._fd = fd

    def _read_at(self, pos: int, n: int) -> bytes:
        return os.pread(self._fd, n, pos)


class SpooledSource:
    """Bytes copied once from a stream into a temporary file; re-opened without copying."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd, self.size = fd, size
        weakref.finalize(self, os.close, fd)

    def open(self) -> BinaryIO:
        return cast(BinaryIO, io.BufferedReader(_PreadReader(self._fd, self.size), 1 << 16))


def spooled(source: Source, maximum: int) -> Source:
    """`source` itself when it re-opens cheaply, else a copy made once (SourceLimit past
    `maximum` bytes). The copy is read in 1 MiB chunks; memory stays bounded."""
    if not isinstance(source, StreamSource):  # files, bytes, spools, remote range reads
        return source
    with source.open() as f:
        head = f.read(MEMORY_BYTES + 1)
        if len(head) > maximum:
            raise SourceLimit("spooled-bytes", maximum)
        if len(head) <= MEMORY_BYTES:
            return BytesSource(head)
        tmp = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, its fd kept
        try:
            tmp.write(head)
            copied = len(head)
            while chunk := f.read(1 << 20):
                copied += len(chunk)
                if copied > maximum:
                    raise SourceLimit("spooled-bytes", maximum)
                tmp.write(chunk)
            tmp.flush()
            fd = os.dup(tmp.fileno())
        finally:
            tmp.close()
    return SpooledSource(fd, copied)
