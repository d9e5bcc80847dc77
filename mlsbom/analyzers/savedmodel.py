"""TensorFlow SavedModel: ops that touch files or call Python, from the protobuf wire format."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class SavedModelAnalyzer:
    formats: tuple[Format, ...] = (Format.TF_SAVEDMODEL,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
