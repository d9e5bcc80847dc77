"""One file, one descriptor, one version of its bytes for the whole of its analysis.

A walked file is opened once (`Pinned`); every stream an analyser opens on it (the head, the
analysis, members, the explanation) reads through that descriptor, so a rename or a swapped
inode cannot change what is read. Reads are served in whole blocks: the SHA-256 of each block is
recorded the first time it is read and checked every later time, so two reads of the analysis
never see two versions of the same bytes, and `digest` (every block read once, in order) names
exactly the bytes the analysis was shown. A block that differs, a short read, or a descriptor
whose size, times or inode moved (`changed`) means the file changed while it was scanned.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from mlsbom.file_identity import Identity
from mlsbom.regular_file import regular_fd
from mlsbom.sources import FileSource, SourceError

BLOCK = 1 << 20
KEEP = 4  # blocks kept in memory: sequential reads and small back-and-forth seeks hit them
READ_BUFFER = 64 << 10


class FileChangedError(SourceError):
    """The file's bytes are not the ones read earlier in this scan."""


def identity_of(st: os.stat_result) -> Identity:
    """Device, inode, size, modification and change time (the owner cannot set ctime back)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Pinned:
    """A regular file opened once, read in verified blocks (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = regular_fd(path)
        self.identity = identity_of(os.fstat(self._fd))
        self.size = self.identity[2]
        self._digests: dict[int, bytes] = {}
        self._kept: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.changed: str | None = None  # why the file is known to have changed

    def __enter__(self) -> Pinned:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _fail(self, reason: str) -> FileChangedError:
        self.changed = self.changed or reason
        return FileChangedError(f"the file changed while it was scanned: {reason}")

    def block(self, index: int) -> bytes:
        """Block `index`, the same bytes every time it is asked for (FileChangedError if not)."""
        with self._lock:
            kept = self._kept.get(index)
            if kept is not None:
                self._kept.move_to_end(index)
                return kept
            want = max(0, min(BLOCK, self.size - index * BLOCK))
            data = _read_at(self._fd, want, index * BLOCK)
            if len(data) != want:
                raise self._fail(f"block {index} is {len(data)} bytes, {want} expected")
            digest = hashlib.sha256(data).digest()
            if self._digests.setdefault(index, digest) != digest:
                raise self._fail(f"block {index} differs from its first read")
            self._kept[index] = data
            while len(self._kept) > KEEP:
                self._kept.popitem(last=False)
            return data

    def digest(self) -> str:
        """A digest of the whole file made of its block digests (read here if not yet read)."""
        h = hashlib.sha256(b"mlsbom-blocks-v1\0%d\0%d\0" % (BLOCK, self.size))
        for index in range((self.size + BLOCK - 1) // BLOCK):
            self.block(index)
            h.update(self._digests[index])
        return h.hexdigest()

    def check(self) -> str | None:
        """Why the file changed since it was opened, or None: its size, times or inode moved
        (a write that kept the size), or one of its blocks read differently."""
        if self.changed is None and self._fd >= 0:
            now = identity_of(os.fstat(self._fd))
            if now != self.identity:
                self.changed = "its size, modification time or change time moved"
        return self.changed

    def open(self) -> BinaryIO:
        return cast(BinaryIO, io.BufferedReader(_Reader(self), READ_BUFFER))


def _read_at(fd: int, want: int, offset: int) -> bytes:
    """Up to `want` bytes at `offset` (fewer only at the end of the file); the caller holds the
    lock, so the seek-and-read fallback where `os.pread` is missing (Windows) is safe too."""
    parts: list[bytes] = []
    got = 0
    while got < want:
        if hasattr(os, "pread"):
            chunk = os.pread(fd, want - got, offset + got)
        else:
            os.lseek(fd, offset + got, os.SEEK_SET)
            chunk = os.read(fd, want - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class _Reader(io.RawIOBase):
    """A seekable stream over a `Pinned` file's verified blocks."""

    def __init__(self, pinned: Pinned) -> None:
        self._pinned = pinned
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._pinned.size}[whence]
        if base + offset < 0:
            raise OSError(22, "negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = self._pinned.size
        if self._pos >= size or not len(buffer):
            return 0
        index, skip = divmod(self._pos, BLOCK)
        data = self._pinned.block(index)
        n = min(len(buffer), len(data) - skip)
        buffer[:n] = data[skip : skip + n]
        self._pos += n
        return n


@dataclass(frozen=True, slots=True)
class PinnedSource(FileSource):
    """A walked file as analysers see it: opened through its `Pinned` descriptor. `path` stays
    for the one reader that needs a name (the HDF5 probe); results that used it are not cached."""

    pinned: Pinned = field(compare=False, repr=False, kw_only=True)

    def open(self) -> BinaryIO:
        return self.pinned.open()
