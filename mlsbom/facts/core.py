"""The base of every fact, and the facts any artefact can yield whatever its format.

Every fact class has a stable `kind` (used by rule files) and may carry `offset`/`stream` fields
that become the finding's location. The other modules of this package hold one family each.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar


@dataclass(frozen=True, slots=True, order=True)
class GlobalRef:
    """A `module.name` a pickle stream asks the unpickler to import."""

    module: str
    name: str

    def __str__(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True, slots=True)
class Fact:
    """Base class of all facts."""

    kind: ClassVar[str] = "fact"

    @property
    def offset_hint(self) -> int | None:
        value = getattr(self, "offset", None)
        return value if isinstance(value, int) else None

    @property
    def stream_hint(self) -> str | None:
        value = getattr(self, "stream", None)
        return value if isinstance(value, str) else None

    @property
    def detail_hint(self) -> str | None:
        """`cell N, line M` for facts about source code (fields `cell`, `line`)."""
        parts = [
            f"{name} {value}"
            for name in ("cell", "line")
            if isinstance(value := getattr(self, name, None), int)
        ]
        return ", ".join(parts) or None


def field_names(kind: type[Fact]) -> frozenset[str]:
    """The matchable field names of a fact class."""
    return frozenset(f.name for f in fields(kind))


@dataclass(frozen=True, slots=True)
class FormatDetected(Fact):
    """The format detected from the artefact's bytes, and whether its loader runs code."""

    kind: ClassVar[str] = "format"
    format: str
    runs_code: bool
    parent_runs_code: bool
    forced: bool = False


@dataclass(frozen=True, slots=True)
class ExtensionMismatch(Fact):
    """The bytes say one format and the file name's extension claims another."""

    kind: ClassVar[str] = "extension-mismatch"
    extension: str
    expected: tuple[str, ...]
    detected: str
    detected_runs_code: bool
    expected_runs_code: bool


@dataclass(frozen=True, slots=True)
class ParseError(Fact):
    """The artefact is truncated or malformed; what precedes `offset` was still analysed."""

    kind: ClassVar[str] = "parse-error"
    message: str
    offset: int | None = None
    stream: str | None = None


@dataclass(frozen=True, slots=True)
class LimitExceeded(Fact):
    """A safety limit stopped analysis early (size, count, depth, memory or time)."""

    kind: ClassVar[str] = "limit-exceeded"
    limit: str
    maximum: int
    value: int | None = None
    offset: int | None = None


@dataclass(frozen=True, slots=True)
class Unreadable(Fact):
    """The artefact could not be read (permissions, I/O error, decompression failure)."""

    kind: ClassVar[str] = "unreadable"
    message: str


@dataclass(frozen=True, slots=True)
class InternalError(Fact):
    """The analyser itself failed on this artefact; the artefact is treated as unsafe."""

    kind: ClassVar[str] = "internal-error"
    message: str


@dataclass(frozen=True, slots=True)
class FileChanged(Fact):
    """The file changed while it was scanned or hashed: what was analysed (or hashed) is not
    one version of it, so neither the verdict nor a digest can stand for the file."""

    kind: ClassVar[str] = "file-changed"
    reason: str


@dataclass(frozen=True, slots=True)
class WorkDone(Fact):
    """Bytes the decompressors produced for one walked file (scan and target budgets count it)."""

    kind: ClassVar[str] = "work-done"
    inflated: int


@dataclass(frozen=True, slots=True)
class SymlinkOutsideRoot(Fact):
    """A symbolic link points outside the scanned root; it was not followed."""

    kind: ClassVar[str] = "symlink-outside-root"
    target: str


@dataclass(frozen=True, slots=True)
class NotRegularFile(Fact):
    """A FIFO, socket, device or dangling link: inventoried, never opened."""

    kind: ClassVar[str] = "not-regular-file"
    file_type: str


@dataclass(frozen=True, slots=True)
class Unscannable(Fact):
    """Bytes no analyser understands, under a name a model loader opens."""

    kind: ClassVar[str] = "unscannable"
    name: str
    why: str


@dataclass(frozen=True, slots=True)
class LfsPointer(Fact):
    """A Git LFS pointer stub: the real content was never downloaded, so it was not scanned."""

    kind: ClassVar[str] = "lfs-pointer"
    oid: str
    size: int | None
