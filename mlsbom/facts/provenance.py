"""Facts about where a model comes from: config, model card, shard index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class ModelConfig(Fact):
    """What a transformers-style config.json claims about the model."""

    kind: ClassVar[str] = "model-config"
    file: str
    architectures: tuple[str, ...]
    model_type: str | None
    name_or_path: str | None  # an unverified claim of where the weights came from
    torch_dtype: str | None
    transformers_version: str | None


@dataclass(frozen=True, slots=True)
class ModelCardInfo(Fact):
    """Model card front matter and the sections the SBOM model card uses."""

    kind: ClassVar[str] = "model-card"
    license: str | None
    license_name: str | None
    base_models: tuple[str, ...]
    datasets: tuple[str, ...]
    pipeline_tag: str | None
    library_name: str | None
    languages: tuple[str, ...]
    model_name: str | None
    sections: tuple[tuple[str, str], ...]  # (consideration kind, text)


@dataclass(frozen=True, slots=True)
class ConfigSummary(Fact):
    """Selected values of other configs (generation, tokenizer) for the SBOM."""

    kind: ClassVar[str] = "config-summary"
    file: str
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class ShardIndexInfo(Fact):
    """A sharded checkpoint's index: which files hold the weights."""

    kind: ClassVar[str] = "shard-index"
    file: str
    shards: tuple[str, ...]
    total_size: int | None


@dataclass(frozen=True, slots=True)
class ProvenanceProblem(Fact):
    """Metadata that could not be read as written (malformed YAML, hostile strings, bad types)."""

    kind: ClassVar[str] = "provenance-problem"
    file: str
    problem: str
