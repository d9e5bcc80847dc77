"""Facts about pickle streams and the formats that carry them (NumPy, PyTorch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact, GlobalRef


@dataclass(frozen=True, slots=True)
class PickleStream(Fact):
    """One pickle stream was walked (stream "0", "1", … or "nested@OFFSET")."""

    kind: ClassVar[str] = "pickle-stream"
    stream: str
    offset: int
    protocol: int | None
    opcodes: int
    length: int
    complete: bool


@dataclass(frozen=True, slots=True)
class PickleImport(Fact):
    """The stream imports `target` (GLOBAL, STACK_GLOBAL, INST or a resolved import gadget)."""

    kind: ClassVar[str] = "pickle-import"
    target: GlobalRef
    opcode: str
    offset: int
    stream: str
    called: bool
    count: int
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class PickleUnresolved(Fact):
    """An opcode performs an import or call whose target cannot be determined statically."""

    kind: ClassVar[str] = "pickle-unresolved"
    opcode: str
    offset: int
    stream: str
    reason: str


@dataclass(frozen=True, slots=True)
class PickleGlobalMutation(Fact):
    """BUILD sets attributes on an imported global itself (monkey-patching at load time)."""

    kind: ClassVar[str] = "pickle-global-mutation"
    target: GlobalRef
    offset: int
    stream: str


@dataclass(frozen=True, slots=True)
class NestedPickle(Fact):
    """Bytes handed to a deserialiser inside the stream were walked as a nested pickle."""

    kind: ClassVar[str] = "pickle-nested"
    via: GlobalRef
    offset: int
    stream: str
    length: int


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
class NumpyArray(Fact):
    """An .npy array header (object arrays hold pickles)."""

    kind: ClassVar[str] = "numpy-array"
    dtype: str
    shape: tuple[int, ...]
    object_dtype: bool
    offset: int


@dataclass(frozen=True, slots=True)
class TorchCheckpoint(Fact):
    """Structure of a PyTorch checkpoint (zip or legacy)."""

    kind: ClassVar[str] = "pytorch-checkpoint"
    layout: str
    pickles: tuple[str, ...]
    storages: int
