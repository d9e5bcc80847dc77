"""Native libraries and executables (ELF, PE, Mach-O) shipped beside weights."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class NativeAnalyzer:
    formats: tuple[Format, ...] = (Format.NATIVE,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
