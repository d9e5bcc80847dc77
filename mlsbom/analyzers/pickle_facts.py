"""Facts of the pickle family that the walker and the unknown-bytes analyser add."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts import Fact


@dataclass(frozen=True, slots=True)
class PickleExternalFile(Fact):
    """Loading makes the loader open another file (a legacy joblib wrapper's `filename`)."""

    kind: ClassVar[str] = "pickle-external-file"
    via: str
    value: str
    reason: str
    offset: int | None
    stream: str | None


@dataclass(frozen=True, slots=True)
class Unscannable(Fact):
    """Bytes no analyser understands, under a name a model loader opens."""

    kind: ClassVar[str] = "unscannable"
    name: str
    why: str
