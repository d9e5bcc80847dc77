"""Python source: AST only, never imported."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class PythonAnalyzer:
    formats: tuple[Format, ...] = (Format.PYTHON,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
