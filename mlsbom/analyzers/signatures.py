"""Sigstore bundles and OpenSSF model.sig files (verification happens after the walk)."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class SignatureFileAnalyzer:
    formats: tuple[Format, ...] = (Format.SIGSTORE_BUNDLE,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
