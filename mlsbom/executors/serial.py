"""The serial executor: every file in the scanning process, in walk order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from mlsbom.analyse import analyse_file
from mlsbom.executors.base import AllowanceFor, FileWork
from mlsbom.models import ArtifactResult
from mlsbom.walk import WalkItem


class SerialExecutor:
    """Files one after the other; each asks its allowance after the previous one was charged."""

    name = "serial"

    def run(
        self, work: FileWork, items: Sequence[WalkItem], allowance: AllowanceFor
    ) -> Iterator[tuple[int, list[ArtifactResult]]]:
        for n, item in enumerate(items):
            left = allowance(n)
            yield n, analyse_file(item, work.config, work.rules, None if left else work.store, left)

    def close(self) -> None:
        return None
