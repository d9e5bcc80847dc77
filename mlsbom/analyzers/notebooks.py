"""Jupyter notebooks: shell escapes and the Python checks on code cells."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class NotebookAnalyzer:
    formats: tuple[Format, ...] = (Format.NOTEBOOK,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
