"""ONNX: external data locations and custom operator domains, parsed with onnx protobufs."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class OnnxAnalyzer:
    formats: tuple[Format, ...] = (Format.ONNX,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
