"""7z archives (py7zr): members streamed to temporary files, never held whole in memory.

py7zr decompresses a solid folder in one pass, so members are written as they come through a
write factory (`py7zr.io.WriterFactory`) into spools on disk: memory stays at py7zr's chunk
size. Every byte is charged to the file's WorkBudget; past `max_member_bytes` per member, or
the declared size or ratio limits, extraction stops with a limit finding. The same count,
size and ratio limits as zip apply before anything is decompressed.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING, Any

from mlsbom.analyzers.base import Analysis, Child, Hint, Job
from mlsbom.budget import BudgetExceeded, WorkBudget
from mlsbom.facts import Fact, LimitExceeded, ParseError
from mlsbom.models import Format
from mlsbom.sources import BytesSource, Source, open_seekable
from mlsbom.spool import MEMORY_BYTES, SpooledSource

if TYPE_CHECKING:
    from mlsbom.config import Limits

SEVENZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
_RATIO_FLOOR = 16 << 20  # declared sizes below this are not judged by ratio (as for zip)
_CHUNK = 1 << 20  # bytes py7zr may produce per decompress call


def _fixed_chunk() -> int:
    """py7zr sizes its output chunks from the memory free at the time (up to 128 MB,
    `py7zr.properties.get_memory_limit`): replaced by a fixed 1 MiB, so memory is bounded
    and the work done is the same on every machine."""
    return _CHUNK


class _TooBig(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class _Spool:
    """A py7zr Py7zIO that writes one member to an unnamed temporary file, within limits."""

    def __init__(self, maximum: int, budget: WorkBudget) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by source()
        self._max, self._budget, self._size = maximum, budget, 0

    def write(self, s: bytes | bytearray) -> int:
        self._size += len(s)
        if self._size > self._max:
            raise _TooBig(self._size)
        self._budget.inflate(len(s))
        return self._file.write(s)

    def read(self, size: int | None = None) -> bytes:
        return b""  # never read back through py7zr

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def flush(self) -> None:
        self._file.flush()

    def size(self) -> int:
        return self._size

    def close(self) -> None:
        self._file.flush()

    def source(self) -> Source:
        """The member's bytes as a re-openable source (closes the writer)."""
        self._file.flush()
        try:
            if self._size <= MEMORY_BYTES:
                self._file.seek(0)
                return BytesSource(self._file.read())
            return SpooledSource(os.dup(self._file.fileno()), self._size)
        finally:
            self._file.close()


class _Factory:
    """py7zr's WriterFactory: one _Spool per extracted member, kept by (sanitised) name."""

    def __init__(self, maximum: int, budget: WorkBudget) -> None:
        self._max, self._budget = maximum, budget
        self.files: dict[str, _Spool] = {}

    def create(self, filename: str) -> _Spool:
        spool = _Spool(self._max, self._budget)
        old = self.files.pop(filename, None)
        if old is not None:
            old.source()  # release the earlier one of a duplicate name
        self.files[filename] = spool
        return spool


def _select(
    infos: list[Any], limits: Limits, facts: list[Fact], sanitise: Any
) -> dict[str, str] | None:
    """archive name -> py7zr's output name for every file member, or None when one is over a
    declared limit or cannot be extracted: py7zr decompresses members it skips in a solid
    folder all the same (`Worker._check`), outside any budget, so it is all or nothing."""
    from mlsbom.analyzers.tar_archives import name_problem
    from mlsbom.facts import ArchiveEntry

    wanted: dict[str, str] | None = {}
    if len(infos) > limits.max_members:
        facts.append(LimitExceeded("container-members", limits.max_members, len(infos)))
        wanted, infos = None, infos[: limits.max_members]
    total = 0
    for info in infos:
        problem = name_problem(info.filename)
        if problem:
            facts.append(ArchiveEntry(info.filename[:300], problem))
        if info.is_directory:
            continue
        size = info.uncompressed or 0
        total += size
        packed = info.compressed or 0
        if size > limits.max_member_bytes:
            facts.append(LimitExceeded("member-bytes", limits.max_member_bytes, size))
        elif total > limits.max_total_member_bytes:
            facts.append(LimitExceeded("container-bytes", limits.max_total_member_bytes, total))
        elif size > _RATIO_FLOOR and packed and size > packed * limits.max_ratio:
            facts.append(LimitExceeded("compression-ratio", limits.max_ratio, size))
        else:
            try:
                if wanted is not None:
                    wanted[info.filename] = sanitise(info.filename, None).as_posix()
                continue
            except Exception as exc:  # py7zr refuses to extract the name (an escape, above)
                facts.append(ParseError(f"7z not extracted: {exc}"[:300]))
        wanted = None
    return wanted


class SevenZipAnalyzer:
    formats: tuple[Format, ...] = (Format.SEVENZIP,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return Format.SEVENZIP if head.startswith(SEVENZIP_MAGIC) else None

    def analyze(self, job: Job) -> Analysis:
        return analyze_sevenzip(job)


def analyze_sevenzip(job: Job) -> Analysis:
    try:
        import py7zr
        import py7zr.py7zr as py7zr_core
        from py7zr.helpers import get_sanitized_output_path
    except ImportError:
        return Analysis([ParseError("7z archive not analysed: py7zr is not installed")])
    py7zr_core.get_memory_limit = _fixed_chunk  # type: ignore[attr-defined]
    limits, budget = job.limits, job.budget
    facts: list[Fact] = []
    children: list[Child] = []
    factory = _Factory(limits.max_member_bytes, budget)
    try:
        with open_seekable(job.source, limits.max_member_bytes) as f:
            budget.inflate(0, f.seek(0, 2))  # the packed bytes: the ratio is judged on them
            f.seek(0)
            with py7zr.SevenZipFile(f, max_extract_size=limits.max_total_member_bytes) as z:
                wanted = _select(z.list(), limits, facts, get_sanitized_output_path) or {}
                if wanted:
                    z.extract(targets=list(wanted), factory=factory)
        for name, out in wanted.items():
            spool = factory.files.pop(out, None)
            if spool is not None:
                source = spool.source()
                children.append(Child(name, source, declared_size=source.size))
    except BudgetExceeded as exc:
        facts.append(LimitExceeded(exc.limit, exc.maximum))
    except _TooBig as exc:
        facts.append(LimitExceeded("member-bytes", limits.max_member_bytes, exc.size))
    except MemoryError:
        facts.append(LimitExceeded("memory", limits.max_address_space))
    except Exception as exc:  # py7zr raises many types on corrupt input
        name = type(exc).__name__
        if name == "DecompressionBombError":
            facts.append(LimitExceeded("container-bytes", limits.max_total_member_bytes))
        else:
            facts.append(ParseError(f"7z: {name}: {exc}"[:300]))
    finally:
        for spool in factory.files.values():
            spool.source()  # close what was not handed on
    return Analysis(facts, children)
