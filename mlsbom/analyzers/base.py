"""The analyser extension point: sniff a format from head bytes, then describe the artefact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from mlsbom.budget import WorkBudget
from mlsbom.config import Limits
from mlsbom.facts import Fact
from mlsbom.lists import Lists
from mlsbom.models import ArtifactRef, Format
from mlsbom.sources import Source


@dataclass(frozen=True, slots=True)
class Hint:
    """What detection may consult besides the bytes: the name and the size."""

    name: str
    size: int | None


@dataclass(frozen=True, slots=True)
class Job:
    """One artefact to analyse, with the lists of the rules it will be judged by and the
    analysers in detection order (for an analyser that hands bytes on: a polyglot pickle)."""

    ref: ArtifactRef
    source: Source
    format: Format
    head: bytes
    size: int | None
    limits: Limits
    deadline: float
    lists: Lists  # analysers that classify by data read their lists here, never a global
    registry: tuple[Analyzer, ...]  # handed in: an analyser never imports the registry
    budget: WorkBudget = field(default_factory=WorkBudget)  # counted work of the whole file


@dataclass(frozen=True, slots=True)
class Child:
    """A member of a container; it re-enters detection and analysis as an artefact of its own.

    `declared_size`/`compressed_size` let the engine apply ratio limits before reading;
    `name_hint` is the name whose extension describes the member (e.g. `x.pkl` for `x.pkl.gz`);
    `unknown_as` analyses bytes of no known format as this format (fail closed);
    `force` analyses the member as this format whatever its bytes look like (a loader will).
    """

    member: str
    source: Source
    declared_size: int | None = None
    compressed_size: int | None = None
    name_hint: str | None = None
    unknown_as: Format | None = None
    force: Format | None = None


@dataclass(slots=True)
class Analysis:
    """What an analyser found: facts, child artefacts, and optionally a refined format."""

    facts: list[Fact] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    format: Format | None = None


class Analyzer(Protocol):
    """One format family: owns its formats' magic-byte sniffing and their analysis."""

    formats: tuple[Format, ...]

    def sniff(self, head: bytes, hint: Hint) -> Format | None: ...

    def analyze(self, job: Job) -> Analysis: ...


def first_sniff(analyzers: tuple[Analyzer, ...], head: bytes, hint: Hint) -> Format:
    """Ask each analyser's sniff in order; the first answer wins."""
    for analyzer in analyzers:
        fmt = analyzer.sniff(head, hint)
        if fmt is not None:
            return fmt
    return Format.UNKNOWN


def analyzer_for(analyzers: tuple[Analyzer, ...], fmt: Format) -> Analyzer:
    """The analyser of `fmt` among `analyzers`."""
    return next(a for a in analyzers if fmt in a.formats)


@dataclass(frozen=True, slots=True)
class Inspector:
    """A content inspector for small JSON and text files (registered in `inspect_hooks`):
    `wants(file_name)` selects files; `inspect(file_name, value)` describes them."""

    wants: Callable[[str], bool]
    inspect: Callable[[str, object], Analysis]
    generic: bool = False  # wants every file: a file it cannot parse is no loader's config either


def merge(results: list[Analysis]) -> Analysis:
    """One Analysis from several inspectors' results."""
    out = Analysis()
    for r in results:
        out.facts.extend(r.facts)
        out.children.extend(r.children)
    return out
