"""The executor interface: what the engine hands over and what comes back."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from mlsbom.budget import Allowance
from mlsbom.config import ScanConfig
from mlsbom.models import ArtifactResult
from mlsbom.result_cache import ResultCache
from mlsbom.rules import RuleSet
from mlsbom.walk import WalkItem

AllowanceFor = Callable[[int], "Allowance | None"]
"""The decompression allowance for item `n`, asked just before it is analysed."""


@dataclass(frozen=True, slots=True)
class FileWork:
    """What analysing a file needs besides the file: configuration, rules and the cache."""

    config: ScanConfig
    rules: RuleSet
    store: ResultCache | None = None


class Executor(Protocol):
    """Runs `analyse_file` over walked files; yields `(index, results)` as files finish."""

    name: str

    def run(
        self, work: FileWork, items: Sequence[WalkItem], allowance: AllowanceFor
    ) -> Iterator[tuple[int, list[ArtifactResult]]]: ...

    def close(self) -> None: ...
