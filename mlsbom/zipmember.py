"""Stream one zip member's bytes the way the loaders read them, charging the work budget.

Lengths mirror the loaders: a member yields at most its declared uncompressed size (zipfile
3.11 `ZipExtFile` trims to `file_size`; miniz `mz_zip_reader_extract_to_mem` fills a buffer of
`m_uncomp_size` and fails past it). A stored member is read for its uncompressed size (miniz
reads `m_uncomp_size` bytes from the data offset, whatever the compressed size says).
Methods: stored and deflate (miniz and zipfile), bzip2 (12) and LZMA (14) (zipfile only:
`np.load` and Keras read them). Decompression is incremental; memory stays at a chunk.
"""

from __future__ import annotations

import bz2
import io
import lzma
import struct
import zlib
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast

from mlsbom.budget import CHARGE_BYTES
from mlsbom.zipfmt import ZipEntry, ZipFormatError, ZipLimitError, _read_at

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from mlsbom.budget import WorkBudget

_CHUNK = 1 << 16
METHODS = (0, 8, 12, 14)


class _Inflater(Protocol):
    eof: bool

    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


class _Lzma:
    """zipfile's LZMA member layout: version (2), properties size (2), properties, raw LZMA1."""

    def __init__(self) -> None:
        self._head = b""
        self._d: lzma.LZMADecompressor | None = None
        self.eof = False

    @property
    def needs_input(self) -> bool:
        return self._d is None or self._d.needs_input

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if self._d is None:
            self._head += data
            if len(self._head) < 4:
                return b""
            (psize,) = struct.unpack_from("<H", self._head, 2)
            if len(self._head) < 4 + psize:
                return b""
            try:
                filt = lzma._decode_filter_properties(  # type: ignore[attr-defined]
                    lzma.FILTER_LZMA1, self._head[4 : 4 + psize]
                )
            except (lzma.LZMAError, ValueError) as exc:
                raise ZipFormatError(f"bad LZMA properties: {exc}") from None
            self._d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filt])
            data, self._head = self._head[4 + psize :], b""
        out = self._d.decompress(data, max_length)
        self.eof = self._d.eof
        return out


class MemberReader(io.RawIOBase):
    """Streams one member's bytes from a file object it shares (seeks before every read).

    Never closes the shared file; produces at most min(declared size, `max_bytes`) bytes and
    raises ZipLimitError when the data would go past `max_bytes`. `truncated` turns true when
    the data ends early. With a `budget`, every decompressed byte is charged to it.
    """

    def __init__(
        self, f: BinaryIO, entry: ZipEntry, max_bytes: int, budget: WorkBudget | None = None
    ) -> None:
        super().__init__()
        if entry.data_offset is None:
            raise ZipFormatError(f"{entry.name}: member data cannot be located")
        if entry.method not in METHODS:
            raise ZipFormatError(f"{entry.name}: unsupported compression method {entry.method}")
        self._f: BinaryIO | None = f
        self._pos = entry.data_offset
        stored = entry.method == 0
        self._left = entry.uncompressed_size if stored else entry.compressed_size
        self._codec: _Inflater | None = None
        if entry.method == 8:
            self._codec = zlib.decompressobj(-15)  # type: ignore[assignment]
        elif entry.method == 12:
            self._codec = bz2.BZ2Decompressor()  # type: ignore[assignment]
        elif entry.method == 14:
            self._codec = _Lzma()
        self._declared_left = entry.uncompressed_size
        self._out_left = max(max_bytes, 0)
        self._max = max_bytes
        self._budget = budget
        # bytes shared with other entries are charged once, by the archive (overlap bombs)
        self._count_input = "overlapping-data" not in entry.anomalies
        self._tail = b""
        self._zlib = entry.method == 8
        self.truncated = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._f = None  # drop the shared file; closing it is the owner's job
        super().close()

    def _raw(self, n: int) -> bytes:
        if self._left <= 0 or self._f is None:
            return b""
        data = _read_at(self._f, self._pos, min(n, self._left))
        if not data:
            self.truncated, self._left = True, 0
        self._pos += len(data)
        self._left -= len(data)
        return data

    def _decoded(self, codec: _Inflater, n: int) -> tuple[bytes, int]:
        """(output, compressed bytes consumed): at most `n` bytes of output."""
        consumed = 0
        while not codec.eof:
            if self._zlib:  # zlib keeps unread input in unconsumed_tail
                chunk = self._tail or self._raw(_CHUNK)
                consumed += 0 if self._tail else len(chunk)
            else:  # bz2 and LZMA buffer it and say whether they need more
                chunk = self._raw(_CHUNK) if getattr(codec, "needs_input", True) else b""
                consumed += len(chunk)
            if not chunk and (self._zlib or getattr(codec, "needs_input", True)):
                self.truncated = True
                return b"", consumed
            try:
                out = codec.decompress(chunk, n)
            except (zlib.error, OSError, EOFError, ValueError, lzma.LZMAError) as exc:
                raise ZipFormatError(f"corrupt compressed data: {exc}") from None
            if self._zlib:
                self._tail = codec.unconsumed_tail  # type: ignore[attr-defined]
            if out:
                return out, consumed
            if not chunk or (self._zlib and len(self._tail) == len(chunk)):
                self.truncated = True  # no progress: never loop forever
                return b"", consumed
        return b"", consumed

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Fill `buffer` in pieces of at most CHARGE_BYTES, charging the budget after each, so
        one large read (a whole-member probe) overshoots the budget by one piece at most."""
        if self.closed:
            raise ValueError("read from a closed member")
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            n = min(len(view) - filled, CHARGE_BYTES, self._out_left + 1, self._declared_left)
            if n <= 0:
                break
            if self._codec is None:
                data = self._raw(n)
            else:
                data, consumed = self._decoded(self._codec, n)
                if self._budget is not None:
                    self._budget.inflate(len(data), consumed if self._count_input else 0)
            if not data:
                break
            if len(data) > self._out_left:
                raise ZipLimitError(f"member expands beyond {self._max} bytes")
            self._out_left -= len(data)
            self._declared_left -= len(data)
            view[filled : filled + len(data)] = data
            filled += len(data)
        return filled


def open_member(
    f: BinaryIO, entry: ZipEntry, *, max_bytes: int, budget: WorkBudget | None = None
) -> BinaryIO:
    """A streaming, unbuffered reader of the member's bytes (a `MemberReader`).

    Raises ZipFormatError for members with no located data or an unsupported method.
    """
    return cast(BinaryIO, MemberReader(f, entry, max_bytes, budget))
