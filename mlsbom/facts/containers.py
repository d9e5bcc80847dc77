"""Facts about zip and archive containers: members loaders and scanners read differently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class ZipAnomaly(Fact):
    """A zip member is irregular in a way loaders and scanners read differently."""

    kind: ClassVar[str] = "zip-anomaly"
    member: str
    anomaly: str


@dataclass(frozen=True, slots=True)
class ArchiveEntry(Fact):
    """An archive member that is not a plain file inside the root: escape, link or device."""

    kind: ClassVar[str] = "archive-entry"
    member: str
    problem: str  # path-escape | absolute-path | link-escape | link | device
    target: str = ""
