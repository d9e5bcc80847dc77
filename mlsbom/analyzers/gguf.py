"""GGUF: bounded header and key/value parsing; the chat template becomes a child artefact."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class GgufAnalyzer:
    formats: tuple[Format, ...] = (Format.GGUF,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
