"""tar archives (any codec: gzip/bz2/xz layers are peeled by the compressed analyser).

Members become child artefacts; the engine applies depth, member-count, size and ratio limits.
A streamed tar (a .tar.gz's decompressed child) is copied once, so members never decompress
the parent again. Nothing is extracted to disk. Member names that escape the extraction root,
links and device entries are facts: `tarfile.extractall` without a filter and many unpack
scripts follow them.
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
from typing import BinaryIO

from mlsbom.analyzers.base import Analysis, Child, Hint, Job
from mlsbom.facts import ArchiveEntry, Fact, LimitExceeded, ParseError
from mlsbom.models import Format
from mlsbom.sources import Source, SourceLimit, WindowReader, capped, open_seekable
from mlsbom.spool import spooled

_DRIVE = re.compile(r"^[A-Za-z]:")


def name_problem(name: str) -> str | None:
    """`absolute-path` or `path-escape` for names that leave the extraction folder."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "absolute-path"
    parts = re.split(r"[\\/]", name)
    depth = 0
    for part in parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return "path-escape"
        elif part not in ("", "."):
            depth += 1
    return None


def _link_problem(member: tarfile.TarInfo) -> ArchiveEntry:
    target = member.linkname
    base = posixpath.dirname(member.name) if member.issym() else ""
    joined = posixpath.normpath(posixpath.join(base, target))
    escapes = target.startswith("/") or joined.startswith("..") or bool(_DRIVE.match(target))
    return ArchiveEntry(member.name[:300], "link-escape" if escapes else "link", target[:300])


class _Slice(WindowReader):
    """Bytes [offset, offset + size) of a seekable stream, ending at the member's end."""

    def __init__(self, inner: BinaryIO, offset: int, size: int) -> None:
        super().__init__(size)
        self._inner, self._start, self._at = inner, offset, 0
        inner.seek(offset)

    def _read_at(self, pos: int, n: int) -> bytes:
        if pos != self._at:  # the inner stream is only moved when a seek happened
            self._inner.seek(self._start + pos)
        data = self._inner.read(n)
        self._at = pos + len(data)
        return data

    def close(self) -> None:
        self._inner.close()
        super().close()


def _member_source(parent: Source, offset: int, size: int, maximum: int) -> Source:
    def opener() -> BinaryIO:
        f = open_seekable(parent, maximum)
        try:
            return io.BufferedReader(_Slice(f, offset, size))
        except BaseException:
            f.close()
            raise

    return capped(opener, maximum, size)


class TarAnalyzer:
    formats: tuple[Format, ...] = (Format.TAR,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if len(head) >= 262 and head[257:262] == b"ustar":
            return Format.TAR
        return None

    def analyze(self, job: Job) -> Analysis:
        limits = job.limits
        facts: list[Fact] = []
        children: list[Child] = []
        try:
            source = spooled(job.source, limits.max_member_bytes)  # decompressed once
            with open_seekable(source, limits.max_member_bytes) as f:
                tar = tarfile.open(fileobj=f, mode="r:")  # noqa: SIM115 - closed with f
                count = 0
                while (member := tar.next()) is not None:
                    count += 1
                    if count > limits.max_members:
                        facts.append(LimitExceeded("container-members", limits.max_members))
                        break
                    problem = name_problem(member.name)
                    if problem:
                        facts.append(ArchiveEntry(member.name[:300], problem))
                    if member.issym() or member.islnk():
                        facts.append(_link_problem(member))
                    elif member.isdev():
                        facts.append(ArchiveEntry(member.name[:300], "device"))
                    elif member.isfile():
                        child = _member_source(
                            source, member.offset_data, member.size, limits.max_member_bytes
                        )
                        children.append(Child(member.name, child, declared_size=member.size))
                    tar.members = []  # type: ignore[attr-defined]  # keep no TarInfo list
        except SourceLimit as exc:
            facts.append(LimitExceeded(exc.limit, exc.maximum))
        except (tarfile.TarError, EOFError, ValueError, OSError) as exc:
            facts.append(ParseError(f"tar: {type(exc).__name__}: {exc}"[:300]))
        return Analysis(facts, children)
