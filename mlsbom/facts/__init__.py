"""Facts: what analysers and the passes after them observe, as typed values. Rules judge them.

One module per family; this package imports nothing else from mlsbom, so anything may import it.
`fact_kinds()` finds every fact class in the family modules listed in `FAMILIES` (a test checks
that every Fact subclass in mlsbom lives here and is found).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType, ModuleType

from mlsbom.facts import (
    code,
    configs,
    containers,
    core,
    cross_file,
    graphs,
    hub,
    pickles,
    policy,
    provenance,
    signing,
    weights,
)
from mlsbom.facts.code import (
    NativeBinary,
    PthCode,
    PythonCall,
    PythonLocalImports,
    PythonObfuscation,
    PythonSideEffect,
    PythonSyntaxError,
    Script,
    ShellEscape,
    TemplateConstruct,
)
from mlsbom.facts.configs import (
    ConfigCallable,
    LoaderPath,
    RemoteCode,
    YamlPythonTag,
    YamlUnparsed,
)
from mlsbom.facts.containers import (
    ArchiveEntry,
    ZipAnomaly,
)
from mlsbom.facts.core import (
    ExtensionMismatch,
    Fact,
    FileChanged,
    FormatDetected,
    GlobalRef,
    InternalError,
    LfsPointer,
    LimitExceeded,
    NotRegularFile,
    ParseError,
    SymlinkOutsideRoot,
    Unreadable,
    Unscannable,
    WorkDone,
    field_names,
)
from mlsbom.facts.cross_file import (
    RemoteCodeMissing,
    ShadowWeights,
    ShardIndexMismatch,
)
from mlsbom.facts.graphs import (
    Hdf5Reference,
    KerasObject,
    KerasSetting,
    OnnxExternalData,
    OnnxModel,
    OnnxOperator,
    TfGraph,
    TfOp,
)
from mlsbom.facts.hub import (
    CacheBlobMismatch,
    HubFile,
    HubRepository,
)
from mlsbom.facts.pickles import (
    NestedPickle,
    NumpyArray,
    PickleExternalFile,
    PickleGlobalMutation,
    PickleImport,
    PickleStream,
    PickleUnresolved,
    TorchCheckpoint,
)
from mlsbom.facts.policy import (
    FormatNotAllowed,
    LicenseNotAllowed,
    WaiverExpired,
)
from mlsbom.facts.provenance import (
    ConfigSummary,
    ModelCardInfo,
    ModelConfig,
    ProvenanceProblem,
    ShardIndexInfo,
)
from mlsbom.facts.signing import (
    SignatureCheck,
    SignatureFileMismatch,
    SignatureFileProblem,
    SignatureMissing,
    SignatureStatus,
)
from mlsbom.facts.weights import (
    GgufModel,
    SafetensorsQuirk,
    TensorShapes,
    TensorSummary,
)

FAMILIES: tuple[ModuleType, ...] = (
    core,
    pickles,
    containers,
    weights,
    graphs,
    code,
    configs,
    cross_file,
    provenance,
    signing,
    hub,
    policy,
)


@cache
def fact_kinds() -> Mapping[str, type[Fact]]:
    """Every fact class by kind: the Fact subclasses each family module defines.

    Computed once (reading a cached or worker result asks for a kind per fact)."""
    kinds: dict[str, type[Fact]] = {}
    for module in FAMILIES:
        for value in vars(module).values():
            if not (isinstance(value, type) and issubclass(value, Fact) and value is not Fact):
                continue
            if value.__module__ != module.__name__:
                continue  # imported from another family
            if value.kind in kinds and kinds[value.kind] is not value:
                raise TypeError(f"two fact classes share the kind {value.kind!r}")
            kinds[value.kind] = value
    return MappingProxyType(kinds)


__all__ = [
    "FAMILIES",
    "ArchiveEntry",
    "CacheBlobMismatch",
    "ConfigCallable",
    "ConfigSummary",
    "ExtensionMismatch",
    "Fact",
    "FileChanged",
    "FormatDetected",
    "FormatNotAllowed",
    "GgufModel",
    "GlobalRef",
    "Hdf5Reference",
    "HubFile",
    "HubRepository",
    "InternalError",
    "KerasObject",
    "KerasSetting",
    "LfsPointer",
    "LicenseNotAllowed",
    "LimitExceeded",
    "LoaderPath",
    "ModelCardInfo",
    "ModelConfig",
    "NativeBinary",
    "NestedPickle",
    "NotRegularFile",
    "NumpyArray",
    "OnnxExternalData",
    "OnnxModel",
    "OnnxOperator",
    "ParseError",
    "PickleExternalFile",
    "PickleGlobalMutation",
    "PickleImport",
    "PickleStream",
    "PickleUnresolved",
    "ProvenanceProblem",
    "PthCode",
    "PythonCall",
    "PythonLocalImports",
    "PythonObfuscation",
    "PythonSideEffect",
    "PythonSyntaxError",
    "RemoteCode",
    "RemoteCodeMissing",
    "SafetensorsQuirk",
    "Script",
    "ShadowWeights",
    "ShardIndexInfo",
    "ShardIndexMismatch",
    "ShellEscape",
    "SignatureCheck",
    "SignatureFileMismatch",
    "SignatureFileProblem",
    "SignatureMissing",
    "SignatureStatus",
    "SymlinkOutsideRoot",
    "TemplateConstruct",
    "TensorShapes",
    "TensorSummary",
    "TfGraph",
    "TfOp",
    "TorchCheckpoint",
    "Unreadable",
    "Unscannable",
    "WaiverExpired",
    "WorkDone",
    "YamlPythonTag",
    "YamlUnparsed",
    "ZipAnomaly",
    "fact_kinds",
    "field_names",
]
