"""Core value types: severities, formats, artefact references, findings and scan results."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from mlsbom.facts import Fact


class Severity(enum.IntEnum):
    """Ordered finding severity; comparisons follow risk."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse a case-insensitive severity name; raise ValueError with the valid names."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Format(str, enum.Enum):
    """An artefact's real format, detected from its bytes."""

    PICKLE = "pickle"
    DILL = "dill"
    CLOUDPICKLE = "cloudpickle"
    JOBLIB = "joblib"
    PYTORCH_ZIP = "pytorch-zip"
    PYTORCH_LEGACY = "pytorch-legacy"
    NUMPY = "numpy"
    NUMPY_ZIP = "numpy-npz"
    SAFETENSORS = "safetensors"
    ZIP = "zip"
    GZIP = "gzip"
    BZIP2 = "bzip2"
    XZ = "xz"
    LZMA = "lzma"
    ZLIB = "zlib"
    LZ4 = "lz4"
    TAR = "tar"
    SEVENZIP = "7z"
    TORCHSCRIPT = "torchscript"
    ONNX = "onnx"
    GGUF = "gguf"
    KERAS = "keras"
    KERAS_CONFIG = "keras-config"
    HDF5 = "hdf5"
    TF_SAVEDMODEL = "tf-savedmodel"
    CHAT_TEMPLATE = "chat-template"
    PYTHON = "python"
    NOTEBOOK = "notebook"
    NATIVE = "native-code"
    SIGSTORE_BUNDLE = "sigstore-bundle"
    JSON = "json"
    YAML = "yaml"
    TEXT = "text"
    REPOSITORY = "repository"
    UNKNOWN = "unknown"

    @property
    def runs_code_on_load(self) -> bool:
        """True for formats whose ordinary loader can execute code (the pickle family)."""
        return self in _CODE_FORMATS


_CODE_FORMATS = frozenset(
    {
        Format.PICKLE,
        Format.DILL,
        Format.CLOUDPICKLE,
        Format.JOBLIB,
        Format.PYTORCH_ZIP,
        Format.PYTORCH_LEGACY,
        Format.TORCHSCRIPT,
    }
)


@dataclass(frozen=True, slots=True, order=True)
class ArtifactRef:
    """Where an artefact lives: a file path (as displayed), the members leading into it, and
    the scan target it was reached from, exactly as given (`""`: no target, e.g. a policy file).

    `path` starts with the target for files walked from it, but which target an artefact
    belongs to is `target`, never a guess from the path: targets may overlap or repeat a
    prefix (`models` and `models/a`), and an HF cache target is walked at its snapshot.
    The target comes last, so refs sort by path and member chain as they are displayed.
    """

    path: str
    member_chain: tuple[str, ...] = ()
    target: str = ""

    def child(self, member: str) -> ArtifactRef:
        return ArtifactRef(self.path, (*self.member_chain, member), self.target)

    def parent(self, depth: int) -> ArtifactRef:
        """The container `depth` members deep on the way to this artefact (0: the file)."""
        return ArtifactRef(self.path, self.member_chain[:depth], self.target)

    @property
    def display(self) -> str:
        return " > ".join((self.path, *self.member_chain))

    @property
    def name(self) -> str:
        """The last path component: the member name or the file name."""
        last = self.member_chain[-1] if self.member_chain else self.path
        return last.rsplit("/", 1)[-1]

    @property
    def depth(self) -> int:
        return len(self.member_chain)


@dataclass(frozen=True, slots=True)
class Location:
    """Where inside an artefact a finding points: byte/opcode offset, pickle stream, detail."""

    offset: int | None = None
    stream: str | None = None
    detail: str | None = None

    def describe(self) -> str:
        parts = []
        if self.stream is not None:
            parts.append(f"stream {self.stream}")
        if self.offset is not None:
            parts.append(f"offset {self.offset}")
        if self.detail:
            parts.append(self.detail)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's judgement of one fact about one artefact."""

    rule_id: str
    severity: Severity
    title: str
    artifact: ArtifactRef
    location: Location
    message: str
    remediation: str
    evidence: str | None = None
    cwe: tuple[str, ...] = ()
    waived: bool = False
    waiver_reason: str | None = None  # the policy waiver that accepted it, when one did
    waiver_expires: str | None = None  # ISO date

    def sort_key(self) -> tuple[ArtifactRef, int, int, str, str]:
        return (
            self.artifact,
            -int(self.severity),
            self.location.offset if self.location.offset is not None else -1,
            self.rule_id,
            self.message,
        )


@dataclass(frozen=True, slots=True)
class ArtifactResult:
    """Everything learnt about one artefact: its format, size, facts and findings.

    Analysis and the passes after it leave `findings` empty; judge.py fills them from the facts."""

    ref: ArtifactRef
    format: Format
    size: int | None
    facts: tuple[Fact, ...]
    findings: tuple[Finding, ...]
    explanation: str | None = None
    sha256: str | None = None  # set for files when the scan hashes (SBOM, signatures)

    def with_facts(self, facts: Iterable[Fact]) -> ArtifactResult:
        """The artefact with more facts (passes after analysis add them; judge.py judges)."""
        return dataclasses.replace(self, facts=(*self.facts, *facts))

    @property
    def worst(self) -> Severity | None:
        active = [f.severity for f in self.findings if not f.waived]
        return max(active) if active else None


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The engine's output: artefacts in deterministic order, with their findings."""

    targets: tuple[str, ...]
    artifacts: tuple[ArtifactResult, ...] = field(default=())

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for a in self.artifacts for f in a.findings)
