"""Facts found by comparing the files of one folder (shadow weights, shard indexes, auto_map)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class ShadowWeights(Fact):
    """Both safetensors and a pickle checkpoint of the weights sit in the same folder."""

    kind: ClassVar[str] = "shadow-weights"
    safetensors: str
    pickle: str
    differs: bool  # tensor names or shapes differ between the two
    detail: str


@dataclass(frozen=True, slots=True)
class ShardIndexMismatch(Fact):
    """A shard index names a file that is missing, or a shard file is not in any index."""

    kind: ClassVar[str] = "shard-index-mismatch"
    index: str
    shard: str
    problem: str  # missing | unindexed


@dataclass(frozen=True, slots=True)
class RemoteCodeMissing(Fact):
    """An `auto_map` names a module of this repository that is not in the scanned folder."""

    kind: ClassVar[str] = "remote-code-missing"
    file: str
    module: str
    reference: str
