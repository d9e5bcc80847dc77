"""A tolerant, bounded zip reader that reads archives the way PyTorch's loader (miniz) does.

Members come from the central directory (every entry, duplicates included); a member's data
starts after its *local* header (30 bytes + local name + local extra), as in miniz. CRCs are
never checked and flag bits never refuse a member, so nothing torch.load would read is skipped.
Archive-level damage raises ZipFormatError; per-member oddities become `ZipEntry.anomalies`.
Every read is bounded by the stated file size; nothing is allocated from an unchecked length.
I/O errors raised by the underlying file propagate unchanged.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import BinaryIO

from mlsbom.sources import SourceError

_LOCAL = b"PK\x03\x04"
_CENTRAL = b"PK\x01\x02"
_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"
_LOCATOR = b"PK\x06\x07"
_LOCAL_SIZE, _CENTRAL_SIZE, _EOCD_SIZE, _EOCD64_SIZE, _LOCATOR_SIZE = 30, 46, 22, 56, 20
_U16, _U32 = 0xFFFF, 0xFFFFFFFF
_CD_CHUNK = 1 << 20


class ZipFormatError(SourceError, ValueError):
    """The archive cannot be read (a SourceError: a member that cannot be opened is a finding)."""


class ZipLimitError(ZipFormatError):
    """A size or count limit was exceeded."""


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One central-directory entry; its data is located through the local header."""

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
    """True for a local-header start, or the end record of an empty archive."""
    return head.startswith(_LOCAL) or head.startswith(_EOCD)


def _read_at(f: BinaryIO, offset: int, n: int) -> bytes:
    if offset < 0 or n < 0:
        raise ZipFormatError("negative offset or length")
    f.seek(offset)
    return f.read(n)


def _decode(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & 0x800 else "cp437", "replace")


class _Window:
    """Sequential, chunked access to [start, end) so a huge directory is never read at once."""

    def __init__(self, f: BinaryIO, start: int, end: int) -> None:
        self._f, self._end, self._base, self._buf = f, end, start, b""

    def take(self, pos: int, n: int) -> bytes:
        if pos + n > self._end:
            raise ZipFormatError("central directory truncated")
        lo = pos - self._base
        if lo < 0 or lo + n > len(self._buf):
            self._base, lo = pos, 0
            self._buf = _read_at(self._f, pos, min(self._end - pos, max(n, _CD_CHUNK)))
        out = self._buf[lo : lo + n]
        if len(out) < n:
            raise ZipFormatError("central directory truncated (file shorter than stated)")
        return out


def _find_eocd(f: BinaryIO, size: int) -> tuple[int, bytes]:
    """The last end-of-central-directory signature with room for a record after it (miniz)."""
    if size < _EOCD_SIZE:
        raise ZipFormatError("too small to be a zip archive")
    span = min(size, _EOCD_SIZE + _U16)
    tail = _read_at(f, size - span, span)
    if len(tail) != span:
        raise ZipFormatError("file shorter than its stated size")
    pos = tail.rfind(_EOCD, 0, span - _EOCD_SIZE + 4)
    if pos < 0:
        raise ZipFormatError("no end-of-central-directory record")
    return size - span + pos, tail[pos : pos + _EOCD_SIZE]


def _zip64_end(f: BinaryIO, size: int, eocd_at: int) -> tuple[int, int, int, int] | None:
    """(count, cd size, cd offset, record position) from a ZIP64 end record, if there is one.

    The locator's offset is tried first (miniz), then the spot just before the locator (zipfile).
    """
    if eocd_at < _LOCATOR_SIZE:
        return None
    locator = _read_at(f, eocd_at - _LOCATOR_SIZE, _LOCATOR_SIZE)
    if len(locator) != _LOCATOR_SIZE or locator[:4] != _LOCATOR:
        return None
    (stated,) = struct.unpack_from("<Q", locator, 8)
    for at in (stated, eocd_at - _LOCATOR_SIZE - _EOCD64_SIZE):
        if 0 <= at <= size - _EOCD64_SIZE:
            rec = _read_at(f, at, _EOCD64_SIZE)
            if len(rec) == _EOCD64_SIZE and rec[:4] == _EOCD64:
                count, cd_size, cd_offset = struct.unpack_from("<3Q", rec, 32)
                return count, cd_size, cd_offset, at
    return None


def _directories(f: BinaryIO, size: int) -> list[tuple[int, int, int, int]]:
    """Every readable (entry count, directory size, absolute start, offset shift).

    miniz (torch.load) reads the directory at its stated offset; zipfile (and `cat stub
    archive.zip`) reads the one right before the end record, shifting every offset by the
    difference. Both are returned when both hold a directory, the stated one first.
    """
    eocd_at, eocd = _find_eocd(f, size)
    count, cd_size, cd_offset = struct.unpack_from("<H2L", eocd, 10)
    end = eocd_at
    z64 = _zip64_end(f, size, eocd_at)
    if z64 is not None:
        count, cd_size, cd_offset, end = z64
    if cd_size > end:
        raise ZipFormatError("central directory larger than the file")
    found = []
    for shift in dict.fromkeys((0, end - cd_size - cd_offset)):
        start = cd_offset + shift
        if shift < 0 or start + cd_size > end:
            continue
        if count == 0 or _read_at(f, start, 4) == _CENTRAL:
            found.append((count, cd_size, start, shift))
    if not found:
        raise ZipFormatError("no central directory at its stated offset")
    return found


def _zip64_extra(extra: bytes, values: list[int]) -> None:
    """Replace 0xFFFFFFFF (uncompressed, compressed, offset) from the 0x0001 extra field."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == 1:
            body = extra[pos + 4 : pos + 4 + length]
            found = [v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
            for i in range(3):
                if values[i] == _U32 and found:
                    values[i] = found.pop(0)
            return
        pos += 4 + length


def _entry(
    f: BinaryIO, size: int, index: int, cd: _Window, pos: int, shift: int
) -> tuple[ZipEntry, int]:
    record = cd.take(pos, _CENTRAL_SIZE)
    if record[:4] != _CENTRAL:
        raise ZipFormatError(f"central directory entry {index} is corrupt")
    flags, method, crc, csize, usize, name_len, extra_len, comment_len = struct.unpack_from(
        "<2H4x3L3H", record, 8
    )
    (offset,) = struct.unpack_from("<L", record, 42)
    raw = cd.take(pos + _CENTRAL_SIZE, name_len + extra_len)
    name = _decode(raw[:name_len], flags)
    values = [usize, csize, offset]
    _zip64_extra(raw[name_len:], values)
    usize, csize, offset = values[0], values[1], values[2] + shift
    anomalies: list[str] = ["shifted-offsets"] if shift else []
    if method not in (0, 8, 12, 14):
        anomalies.append(f"unsupported-method:{method}")
    elif method in (12, 14):
        anomalies.append(f"zipfile-only-method:{method}")  # miniz (torch.load) refuses it
    elif method == 0 and csize != usize:
        anomalies.append("stored-size-mismatch")
    local_name: str | None = None
    data_offset: int | None = None
    local_flags = 0
    if offset > size - _LOCAL_SIZE:
        anomalies.append("local-header-beyond-eof")
    else:
        local = _read_at(f, offset, _LOCAL_SIZE)
        if len(local) < _LOCAL_SIZE or local[:4] != _LOCAL:
            anomalies.append("bad-local-signature")
        else:
            (local_flags,) = struct.unpack_from("<H", local, 6)
            lname_len, lextra_len = struct.unpack_from("<HH", local, 26)
            lname = _read_at(f, offset + _LOCAL_SIZE, lname_len)
            local_name = _decode(lname, flags)
            data_offset = offset + _LOCAL_SIZE + lname_len + lextra_len
            if lname != raw[:name_len]:
                anomalies.append("local-name-mismatch")
            if data_offset + csize > size:
                anomalies.append("data-beyond-eof")
    either = flags | local_flags
    if either & 0x41:
        anomalies.append("encrypted-flag")
    if either & 0x20:
        anomalies.append("patch-flag")
    entry = ZipEntry(
        index, name, local_name, method, flags, crc, csize, usize, offset, data_offset,
        tuple(anomalies),
    )  # fmt: skip
    return entry, _CENTRAL_SIZE + name_len + extra_len + comment_len


def _one_directory(
    f: BinaryIO, size: int, found: tuple[int, int, int, int], max_entries: int
) -> list[ZipEntry]:
    count, cd_size, start, shift = found
    if count * _CENTRAL_SIZE > cd_size:
        raise ZipFormatError(f"{count} entries cannot fit in a {cd_size}-byte directory")
    if count > max_entries:
        raise ZipLimitError(f"{count} entries exceed the limit of {max_entries}")
    cd = _Window(f, start, start + cd_size)
    entries: list[ZipEntry] = []
    pos = start
    for index in range(count):
        entry, used = _entry(f, size, index, cd, pos, shift)
        pos += used
        if pos > start + cd_size:
            raise ZipFormatError(f"central directory entry {index} overruns the directory")
        entries.append(entry)
    return entries


def _mark_overlaps(entries: list[ZipEntry]) -> list[ZipEntry]:
    """Flag members whose bytes overlap another's (Fifield's non-recursive zip bombs share
    one kernel between many entries; writers never produce this)."""
    spans = sorted(
        (e.header_offset, e.data_offset + e.compressed_size, i)
        for i, e in enumerate(entries)
        if e.data_offset is not None
    )
    hit: set[int] = set()
    reach, owner = -1, -1
    for lo, hi, i in spans:
        if lo < reach:
            hit.update((i, owner))
        if hi > reach:
            reach, owner = hi, i
    return [
        replace(e, anomalies=(*e.anomalies, "overlapping-data")) if i in hit else e
        for i, e in enumerate(entries)
    ]


def read_entries(f: BinaryIO, size: int, *, max_entries: int = 100_000) -> list[ZipEntry]:
    """Every central-directory entry (duplicates included), in directory order; when miniz
    and zipfile would read different directories, the entries of both (the second view's
    new entries marked `second-directory`).

    Raises ZipFormatError when the archive cannot be read, ZipLimitError past `max_entries`.
    """
    try:
        views = _directories(f, size)
        entries = _one_directory(f, size, views[0], max_entries)
        for view in views[1:]:
            try:
                other = _one_directory(f, size, view, max_entries - len(entries))
            except ZipLimitError:
                raise
            except ZipFormatError:
                continue  # that loader fails on it too
            known = {(e.name, e.data_offset) for e in entries}
            entries += [
                replace(e, index=len(entries) + n, anomalies=(*e.anomalies, "second-directory"))
                for n, e in enumerate(x for x in other if (x.name, x.data_offset) not in known)
            ]
        return _mark_overlaps(entries)
    except (struct.error, OverflowError) as exc:
        raise ZipFormatError(f"unreadable zip structure: {exc}") from None


def has_directory(f: BinaryIO, size: int) -> bool:
    """True when the end of the file holds a readable zip directory (an appended zip, as in
    self-extracting archives: zipfile-based loaders such as Keras open it)."""
    try:
        return any(count > 0 for count, _, _, _ in _directories(f, size))
    except (ZipFormatError, struct.error, OverflowError):
        return False


def member_size_hint(entry: ZipEntry) -> int:
    """Bytes the member claims to hold once decompressed (untrusted)."""
    return entry.compressed_size if entry.method == 0 else entry.uncompressed_size
