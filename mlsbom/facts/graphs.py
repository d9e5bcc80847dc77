"""Facts about model graphs a loader rebuilds: ONNX, TensorFlow SavedModel, Keras and HDF5."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class OnnxModel(Fact):
    """Producer, IR version, operator sets and graph size (for the SBOM)."""

    kind: ClassVar[str] = "onnx-model"
    ir_version: int | None
    producer: str
    opsets: tuple[str, ...]
    nodes: int


@dataclass(frozen=True, slots=True)
class OnnxExternalData(Fact):
    """A tensor whose bytes live in another file; `problem` says where that file may be."""

    kind: ClassVar[str] = "onnx-external-data"
    tensor: str
    location: str
    problem: str  # see loader_paths.path_problem


@dataclass(frozen=True, slots=True)
class OnnxOperator(Fact):
    """Operators from a domain other than the standard ones, or Python operators."""

    kind: ClassVar[str] = "onnx-operator"
    domain: str
    op_type: str
    count: int
    python: bool


@dataclass(frozen=True, slots=True)
class TfOp(Fact):
    """An op the graph runs that touches files or calls Python (category from rules/lists)."""

    kind: ClassVar[str] = "tf-op"
    op: str
    category: str
    count: int


@dataclass(frozen=True, slots=True)
class TfGraph(Fact):
    """Size of the SavedModel's graphs (for the SBOM)."""

    kind: ClassVar[str] = "tf-graph"
    meta_graphs: int
    nodes: int
    distinct_ops: int


@dataclass(frozen=True, slots=True)
class KerasObject(Fact):
    """A config object loading would deserialise: a Lambda, or a class or function outside Keras."""

    kind: ClassVar[str] = "keras-object"
    role: str  # lambda | foreign-module | torch-module-wrapper | custom-object
    module: str
    class_name: str
    evidence: str


@dataclass(frozen=True, slots=True)
class KerasSetting(Fact):
    """A config value that weakens or extends loading: unsafe deserialisation, remote files."""

    kind: ClassVar[str] = "keras-setting"
    setting: str
    evidence: str


@dataclass(frozen=True, slots=True)
class Hdf5Reference(Fact):
    """An HDF5 object that points elsewhere: `external-link`, `external-storage` (raw data in
    another file), `virtual-source` (a virtual dataset's source in another file), `soft-link`."""

    kind: ClassVar[str] = "hdf5-reference"
    reference: str
    name: str
    target: str
