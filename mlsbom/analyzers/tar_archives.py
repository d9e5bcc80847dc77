"""tar (all codecs) and 7z archives: members become child artefacts."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class TarAnalyzer:
    formats: tuple[Format, ...] = (Format.TAR, Format.SEVENZIP)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
