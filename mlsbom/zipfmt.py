"""A tolerant, bounded zip reader that reads archives the way PyTorch's loader (miniz) does.

Members are found through the central directory; their data starts after the *local* header
(30 bytes + local name + local extra). CRCs are never checked and flag bits never refuse a
member, so nothing PyTorch would load is skipped. Archive-level damage raises ZipFormatError;
per-member oddities are reported as `anomalies`.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"
_LOCATOR64 = b"PK\x06\x07"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_MAX_COMMENT = 0xFFFF


class ZipFormatError(ValueError):
    """The archive cannot be read."""


class ZipLimitError(ZipFormatError):
    """A size or count limit was exceeded."""


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One central-directory entry, with its data located through the local header."""

    index: int
    name: str
    local_name: str | None
    method: int
    flags: int
    crc32: int
    compressed_size: int
    uncompressed_size: int
    header_offset: int
    data_offset: int | None
    anomalies: tuple[str, ...]

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


def is_zip(head: bytes) -> bool:
    return head.startswith(_LOCAL) or head.startswith(_EOCD)


def _read_at(f: BinaryIO, offset: int, n: int) -> bytes:
    f.seek(offset)
    return f.read(n)


def _decode(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")


def _find_eocd(f: BinaryIO, size: int) -> tuple[int, bytes]:
    span = min(size, 22 + _MAX_COMMENT)
    tail = _read_at(f, size - span, span)
    pos = tail.rfind(_EOCD)
    while pos >= 0 and len(tail) - pos < 22:
        pos = tail.rfind(_EOCD, 0, pos)
    if pos < 0:
        raise ZipFormatError("no end-of-central-directory record")
    return size - span + pos, tail[pos : pos + 22]


def _directory(f: BinaryIO, size: int) -> tuple[int, int, int]:
    """(entry count, central directory size, central directory offset) from (ZIP64) EOCD."""
    eocd_at, eocd = _find_eocd(f, size)
    _, _, _, _, count, cd_size, cd_offset, _ = struct.unpack("<4s4H2LH", eocd)
    if eocd_at >= 20:
        locator = _read_at(f, eocd_at - 20, 20)
        if locator[:4] == _LOCATOR64:
            (eocd64_at,) = struct.unpack("<Q", locator[8:16])
            rec = _read_at(f, eocd64_at, 56) if eocd64_at <= size - 56 else b""
            if rec[:4] != _EOCD64:
                raise ZipFormatError("broken ZIP64 end-of-central-directory record")
            count, cd_size, cd_offset = struct.unpack("<QQQ", rec[32:56])
            eocd_at = eocd64_at
    # archives with data prepended: the directory sits just before the EOCD record
    shift = eocd_at - cd_size - cd_offset
    if shift < 0 or cd_size > size:
        raise ZipFormatError("central directory lies outside the file")
    return count, cd_size, cd_offset + shift


def _zip64_extra(extra: bytes, sizes: list[int]) -> None:
    """Replace 0xFFFFFFFF fields (uncompressed, compressed, offset) from the 0x0001 extra."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack("<HH", extra[pos : pos + 4])
        body = extra[pos + 4 : pos + 4 + length]
        if tag == 1:
            values = [v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
            for i in range(3):
                if sizes[i] == 0xFFFFFFFF and values:
                    sizes[i] = values.pop(0)
            return
        pos += 4 + length


def _entry(f: BinaryIO, size: int, index: int, directory: bytes, pos: int) -> tuple[ZipEntry, int]:
    record = directory[pos : pos + 46]
    if len(record) < 46 or record[:4] != _CENTRAL:
        raise ZipFormatError(f"central directory entry {index} is corrupt")
    (
        _,
        _,
        _,
        flags,
        method,
        _,
        _,
        crc,
        csize,
        usize,
        name_len,
        extra_len,
        comment_len,
        _,
        _,
        _,
        offset,
    ) = struct.unpack("<4s4H2H3L5H2L", record)
    total = name_len + extra_len + comment_len
    rest = directory[pos + 46 : pos + 46 + name_len + extra_len]
    if pos + 46 + total > len(directory):
        raise ZipFormatError("central directory truncated")
    name = _decode(rest[:name_len], flags)
    sizes = [usize, csize, offset]
    _zip64_extra(rest[name_len : name_len + extra_len], sizes)
    usize, csize, offset = sizes
    anomalies: list[str] = []
    if flags & 0x1:
        anomalies.append("encrypted-flag")
    if method not in (0, 8):
        anomalies.append(f"unsupported-method:{method}")
    local_name: str | None = None
    data_offset: int | None = None
    local = _read_at(f, offset, 30) if offset <= size - 30 else b""
    if local[:4] != _LOCAL:
        anomalies.append("bad-local-signature")
    else:
        lname_len, lextra_len = struct.unpack("<HH", local[26:30])
        local_name = _decode(_read_at(f, offset + 30, lname_len), flags)
        data_offset = offset + 30 + lname_len + lextra_len
        if local_name != name:
            anomalies.append("local-name-mismatch")
        if data_offset + csize > size:
            anomalies.append("data-beyond-eof")
    entry = ZipEntry(
        index, name, local_name, method, flags, crc, csize, usize, offset, data_offset,
        tuple(anomalies),
    )  # fmt: skip
    return entry, 46 + total


def read_entries(f: BinaryIO, size: int, *, max_entries: int = 100_000) -> list[ZipEntry]:
    """Every central-directory entry (duplicates included), in directory order."""
    try:
        count, cd_size, cd_offset = _directory(f, size)
        if count > max_entries:
            raise ZipLimitError(f"{count} entries exceed the limit of {max_entries}")
        if count * 46 > cd_size:
            raise ZipFormatError(f"{count} entries cannot fit in a {cd_size}-byte directory")
        directory = _read_at(f, cd_offset, cd_size)
        if len(directory) < cd_size:
            raise ZipFormatError("central directory truncated")
        entries: list[ZipEntry] = []
        pos = 0
        for index in range(count):
            entry, used = _entry(f, size, index, directory, pos)
            entries.append(entry)
            pos += used
        return entries
    except (struct.error, OSError, OverflowError) as exc:
        raise ZipFormatError(f"unreadable zip structure: {exc}") from None


class _MemberReader(io.RawIOBase):
    """Streams one member's bytes (stored or deflated) from a shared file object."""

    def __init__(self, f: BinaryIO, entry: ZipEntry, max_bytes: int) -> None:
        if entry.data_offset is None:
            raise ZipFormatError(f"{entry.name}: member data cannot be located")
        if entry.method not in (0, 8):
            raise ZipFormatError(f"{entry.name}: unsupported compression method {entry.method}")
        self._f = f
        self._pos = entry.data_offset
        self._left = entry.compressed_size
        self._inflate = zlib.decompressobj(-15) if entry.method == 8 else None
        self._out_left = max_bytes
        self._max = max_bytes
        self._pending = b""
        self.truncated = False

    def readable(self) -> bool:
        return True

    def _raw(self, n: int) -> bytes:
        if self._left <= 0:
            return b""
        data = _read_at(self._f, self._pos, min(n, self._left))
        if not data:
            self.truncated = True
            self._left = 0
        self._pos += len(data)
        self._left -= len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        if self._inflate is None:
            data = self._raw(want)
        else:
            while not self._pending and not self._inflate.eof:
                if self._inflate.unconsumed_tail:
                    chunk = self._inflate.unconsumed_tail
                else:
                    chunk = self._raw(1 << 16)
                    if not chunk:
                        self.truncated = self._left > 0 or not self._inflate.eof
                        break
                try:
                    self._pending = self._inflate.decompress(chunk, 1 << 16)
                except zlib.error as exc:
                    raise ZipFormatError(f"corrupt deflate data: {exc}") from None
            data, self._pending = self._pending[:want], self._pending[want:]
        if len(data) > self._out_left:
            raise ZipLimitError(f"member expands beyond {self._max} bytes")
        self._out_left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def open_member(f: BinaryIO, entry: ZipEntry, *, max_bytes: int) -> BinaryIO:
    """A streaming reader of the member's uncompressed bytes (at most `max_bytes`)."""
    return io.BufferedReader(_MemberReader(f, entry, max_bytes), 1 << 16)
