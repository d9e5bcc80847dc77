"""Facts about weight files (safetensors, GGUF): what they hold, for the SBOM and cross-checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class TensorSummary(Fact):
    """Tensor count and dtypes of a weights file (for the SBOM)."""

    kind: ClassVar[str] = "tensor-summary"
    tensors: int
    dtypes: tuple[str, ...]
    parameters: int | None = None


@dataclass(frozen=True, slots=True)
class TensorShapes(Fact):
    """Tensor names and shapes of a weights file (compared across safetensors and pickles)."""

    kind: ClassVar[str] = "tensor-shapes"
    tensors: tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True, slots=True)
class SafetensorsQuirk(Fact):
    """A header safetensors accepts but other parsers may read differently."""

    kind: ClassVar[str] = "safetensors-quirk"
    quirk: str  # duplicate-key | extra-field | leading-whitespace | metadata-not-string
    detail: str
    offset: int = 8


@dataclass(frozen=True, slots=True)
class GgufModel(Fact):
    """What a GGUF header says: architecture, quantisation, sizes (for the SBOM)."""

    kind: ClassVar[str] = "gguf-model"
    version: int
    architecture: str | None
    name: str | None
    license: str | None
    quantization: str | None  # the most common tensor type
    tensors: int
    parameters: int
    key_values: int
