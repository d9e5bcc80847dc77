"""Keras: .keras config.json and .h5 model_config (Lambda layers, modules outside keras)."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format


class KerasAnalyzer:
    formats: tuple[Format, ...] = (Format.KERAS_CONFIG, Format.HDF5)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
