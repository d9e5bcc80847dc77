"""Single-stream compression (gzip, bzip2, xz, lzma, zlib, lz4): one decompressed child."""

from __future__ import annotations

from typing import BinaryIO

from mlsbom.analyzers.base import Analysis, Child, Hint, Job
from mlsbom.budget import WorkBudget, metered_decompressor
from mlsbom.models import Format
from mlsbom.sources import DECOMPRESSORS, Source, StreamSource, capped

_MAGIC: tuple[tuple[bytes, Format], ...] = (
    (b"\x1f\x8b", Format.GZIP),
    (b"BZh", Format.BZIP2),
    (b"\xfd7zXZ\x00", Format.XZ),
    (b"\x04\x22\x4d\x18", Format.LZ4),
)
_SUFFIXES = {".gz", ".gzip", ".bz2", ".xz", ".lzma", ".lz4", ".z", ".zlib"}


def _is_zlib(head: bytes) -> bool:
    """RFC 1950 header: deflate method, window <= 32K, check bits, no preset dictionary."""
    if len(head) < 2:
        return False
    cmf, flg = head[0], head[1]
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0 and not flg & 0x20


def _is_lzma_alone(head: bytes) -> bool:
    """Legacy .lzma header: properties byte 0x5D, a power-of-two dictionary size."""
    if len(head) < 13 or head[0] != 0x5D:
        return False
    dict_size = int.from_bytes(head[1:5], "little")
    return dict_size & (dict_size - 1) == 0 and dict_size >= 1 << 12


class CompressedAnalyzer:
    formats: tuple[Format, ...] = (
        Format.GZIP,
        Format.BZIP2,
        Format.XZ,
        Format.LZMA,
        Format.ZLIB,
        Format.LZ4,
    )

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        for magic, fmt in _MAGIC:
            if head.startswith(magic):
                return fmt
        if _is_lzma_alone(head):
            return Format.LZMA
        if _is_zlib(head):
            return Format.ZLIB
        return None

    def analyze(self, job: Job) -> Analysis:
        name = job.ref.name
        stem, dot, suffix = name.rpartition(".")
        inner_name = stem if dot and f".{suffix.lower()}" in _SUFFIXES else name
        source = _metered(job.source, job.format.value, job.limits.max_member_bytes, job.budget)
        child = Child(f"<{job.format.value}>", source, name_hint=inner_name)
        return Analysis(children=[child])


def _metered(parent: Source, codec: str, maximum: int, budget: WorkBudget) -> StreamSource:
    """`sources.decompressed`, with every produced byte charged to the file's budget."""
    make = DECOMPRESSORS[codec]

    def opener() -> BinaryIO:
        return metered_decompressor(parent.open(), make, budget)

    return capped(opener, maximum, None)
