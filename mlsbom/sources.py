"""Byte sources: something that can be opened (again) as a fresh read-only stream.

Files, container members and decompressed streams all look the same to analysers. Opening a
source never loads it whole: member and decompression streams are produced incrementally and
stop with `SourceLimit` once they exceed the byte budget they were given.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from mlsbom.regular_file import regular_fd

SPOOL_BYTES = 32 << 20  # non-seekable members up to this stay in memory when made seekable


class SourceError(Exception):
    """A stream could not be read (I/O error, corrupt compressed data)."""


class SourceLimit(SourceError):
    """A stream produced more bytes than its budget allows (decompression bomb)."""

    def __init__(self, limit: str, maximum: int) -> None:
        super().__init__(f"{limit}: more than {maximum} bytes")
        self.limit = limit
        self.maximum = maximum


_READ_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    EOFError,
    ValueError,
    RuntimeError,  # lz4 reports corrupt frames this way
    zlib.error,
    lzma.LZMAError,
)


class Source(Protocol):
    """Something an analyser can read; `size` is None when unknown without reading it."""

    @property
    def size(self) -> int | None: ...

    def open(self) -> BinaryIO: ...


@dataclass(frozen=True, slots=True)
class FileSource:
    path: Path
    size: int | None

    def open(self) -> BinaryIO:
        return open(regular_fd(self.path), "rb")


@dataclass(frozen=True, slots=True)
class BytesSource:
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)


@dataclass(frozen=True, slots=True)
class StreamSource:
    """A source produced by a function (a zip member, a decompressed stream)."""

    opener: Callable[[], BinaryIO]
    size: int | None

    def open(self) -> BinaryIO:
        return self.opener()


class WindowReader(io.RawIOBase):
    """A seekable read-only view of `size` bytes; subclasses say how to read at a position."""

    def __init__(self, size: int) -> None:
        self._size, self._pos = size, 0

    def _read_at(self, pos: int, n: int) -> bytes:
        raise NotImplementedError

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._size - self._pos)
        if n <= 0:
            return 0
        data = self._read_at(self._pos, n)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


class _Capped(io.RawIOBase):
    """Passes reads through and raises SourceLimit past `maximum` bytes."""

    def __init__(self, inner: BinaryIO, maximum: int, limit: str) -> None:
        self._inner = inner
        self._left = maximum
        self._maximum = maximum
        self._limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        try:
            data = self._inner.read(min(want, self._left + 1))
        except SourceError:
            raise
        except _READ_ERRORS as exc:
            raise SourceError(f"cannot read stream: {exc}") from exc
        if len(data) > self._left:
            raise SourceLimit(self._limit, self._maximum)
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _ZlibReader(io.RawIOBase):
    """A streaming zlib (RFC 1950) decompressor over a file object.

    Mirrors joblib 1.6 `compressor.BinaryZlibFile`: one stream, nothing read after its end
    marker. Output per call is bounded; input the decoder has not consumed yet
    (`unconsumed_tail`) is always fed back before more is read, or bytes would be lost.
    """

    _CHUNK = 1 << 16

    def __init__(self, inner: BinaryIO, wbits: int = zlib.MAX_WBITS) -> None:
        self._inner = inner
        self._d = zlib.decompressobj(wbits)
        self._pending = b""
        self._offset = 0

    def readable(self) -> bool:
        return True

    def _fill(self, want: int) -> None:
        """Decode until output is pending or the stream has ended."""
        while self._offset >= len(self._pending) and not self._d.eof:
            data = self._d.unconsumed_tail or self._inner.read(self._CHUNK)
            if data:
                self._pending = self._d.decompress(data, max(want, self._CHUNK))
            else:  # input used up: what inflate still holds (at most one match) comes out
                self._pending = self._d.flush()
                if not self._pending and not self._d.eof:
                    raise EOFError("compressed stream ended before the end-of-stream marker")
            self._offset = 0

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        if not want:
            return 0
        self._fill(want)
        data = self._pending[self._offset : self._offset + want]
        self._offset += len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _FullReads(io.RawIOBase):
    """`read(n)` returns n bytes unless the input ends: gzip's header parser (CPython 3.11)
    takes a short read for a corrupt file, so a source that returns short reads (a pipe, a
    streamed archive member) would turn a valid stream into a false malformed finding."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return self._inner.read()
        parts = []
        while size > 0 and (data := self._inner.read(size)):
            parts.append(data)
            size -= len(data)
        return b"".join(parts)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _lz4(inner: BinaryIO) -> BinaryIO:
    import lz4.frame  # optional at import time; a declared dependency

    return lz4.frame.LZ4FrameFile(inner, "rb")  # type: ignore[no-any-return]


def _zlib(inner: BinaryIO) -> BinaryIO:
    return cast(BinaryIO, io.BufferedReader(_ZlibReader(inner)))


DECOMPRESSORS: dict[str, Callable[[BinaryIO], BinaryIO]] = {
    "gzip": lambda f: cast(BinaryIO, gzip.GzipFile(fileobj=f, mode="rb")),
    "bzip2": lambda f: cast(BinaryIO, bz2.BZ2File(f, "rb")),
    "xz": lambda f: cast(BinaryIO, lzma.LZMAFile(f, "rb", format=lzma.FORMAT_XZ)),
    "lzma": lambda f: cast(BinaryIO, lzma.LZMAFile(f, "rb", format=lzma.FORMAT_ALONE)),
    "zlib": _zlib,
    "lz4": _lz4,
}


def decompressed(parent: Source, codec: str, maximum: int) -> StreamSource:
    """The decompressed content of `parent`, capped at `maximum` bytes."""
    make = DECOMPRESSORS[codec]

    def opener() -> BinaryIO:
        inner = make(cast(BinaryIO, _FullReads(parent.open())))
        return cast(
            BinaryIO, io.BufferedReader(_Capped(inner, maximum, "decompressed-bytes"), 1 << 16)
        )

    return StreamSource(opener, None)


def capped(opener: Callable[[], BinaryIO], maximum: int, size: int | None) -> StreamSource:
    """A stream source that refuses to produce more than `maximum` bytes."""

    def open_capped() -> BinaryIO:
        return cast(
            BinaryIO, io.BufferedReader(_Capped(opener(), maximum, "member-bytes"), 1 << 16)
        )

    return StreamSource(open_capped, size)


def open_seekable(source: Source, maximum: int) -> BinaryIO:
    """Open `source` seekably, spooling a non-seekable stream to memory or a temporary file."""
    f = source.open()
    try:
        if f.seekable():
            return f
    except (OSError, ValueError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with f:
        copied = 0
        while chunk := f.read(1 << 20):
            copied += len(chunk)
            if copied > maximum:
                spool.close()
                raise SourceLimit("spooled-bytes", maximum)
            spool.write(chunk)
    spool.seek(0)
    return spool  # type: ignore[return-value]


__all__ = [
    "DECOMPRESSORS",
    "BytesSource",
    "FileSource",
    "Source",
    "SourceError",
    "SourceLimit",
    "StreamSource",
    "capped",
    "decompressed",
    "open_seekable",
]
