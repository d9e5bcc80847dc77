"""Text files and bytes of no recognised format: inventoried, nothing to execute."""

from __future__ import annotations

import io
import os
import re
from typing import BinaryIO

from mlsbom.analyzers.base import Analysis, Hint, Job, merge
from mlsbom.analyzers.inspect_hooks import text_inspectors
from mlsbom.analyzers.pickles import analyse_if_pickle
from mlsbom.analyzers.protowire import Reader, WireError
from mlsbom.facts import Fact, LfsPointer, LimitExceeded, Script, Unscannable
from mlsbom.models import ArtifactRef, Format

MAX_INSPECTED_TEXT = 4 << 20  # model cards and similar; larger text is only inventoried

_CONTROL = frozenset(range(0, 9)) | frozenset(range(14, 32)) - {27}


def is_text(head: bytes) -> bool:
    """UTF-8 (a truncated last character allowed) without NULs or many control bytes."""
    sample = head[:8192]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data" or len(head) <= len(sample):
            return False  # only a character cut by the sample's end is forgiven
    controls = sum(1 for b in sample if b in _CONTROL)
    return controls * 100 <= len(sample)


_LFS = re.compile(rb"^version https://git-lfs\.github\.com/spec/v\d+\s*\n")
_LFS_OID = re.compile(rb"\noid sha256:([0-9a-f]{64})\s*\n")
_LFS_SIZE = re.compile(rb"\nsize (\d{1,20})\s*(\n|$)")
_SHEBANG = re.compile(rb"^#!\s*(\S+)(?:\s+(\S+))?")


def text_facts(name: str, head: bytes) -> list[Fact]:
    """Facts from a text file's first bytes: LFS stubs, scripts (.pth files: pth_files)."""
    if _LFS.match(head):
        oid = _LFS_OID.search(head)
        size = _LFS_SIZE.search(head)
        return [
            LfsPointer(
                oid.group(1).decode() if oid else "unknown",
                int(size.group(1)) if size else None,
            )
        ]
    facts: list[Fact] = []
    shebang = _SHEBANG.match(head)
    if shebang:
        program = shebang.group(1).rsplit(b"/", 1)[-1]
        if program == b"env" and shebang.group(2):
            program = shebang.group(2)
        facts.append(Script(program.decode("utf-8", "replace")[:40]))
    return facts


class TextAnalyzer:
    formats: tuple[Format, ...] = (Format.TEXT,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if hint.name.lower().endswith(".pth") and b"\x00" not in head[:8192]:
            return Format.TEXT  # site.py reads .pth in the locale encoding: any text is text
        return Format.TEXT if is_text(head) else None

    def analyze(self, job: Job) -> Analysis:
        as_pickle = analyse_if_pickle(job)  # protocol-0 pickles are text too
        if as_pickle is not None:
            return as_pickle
        name = job.ref.name
        facts = text_facts(name, job.head)
        if name.lower().endswith(".pth"):
            from mlsbom.analyzers.pth_files import pth_facts

            facts.extend(pth_facts(job))
        wanted = [i for i in text_inspectors() if i.wants(name)]
        if not wanted:
            return Analysis(facts)
        with job.source.open() as f:
            raw = f.read(MAX_INSPECTED_TEXT + 1)
        if len(raw) > MAX_INSPECTED_TEXT:
            return Analysis([LimitExceeded("text-bytes", MAX_INSPECTED_TEXT)])
        text = raw.decode("utf-8", "replace")
        found = merge([i.inspect(name, text) for i in wanted])
        found.facts[:0] = facts
        return found


class RepositoryAnalyzer:
    """A pseudo artefact standing for a whole repository (hub or cache); it carries walk facts."""

    formats: tuple[Format, ...] = (Format.REPOSITORY,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()


class UnknownAnalyzer:
    """Bytes no sniff claimed: a pickle if the walker says so, else unscannable or inventoried."""

    formats: tuple[Format, ...] = (Format.UNKNOWN,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return Format.UNKNOWN

    def analyze(self, job: Job) -> Analysis:
        as_pickle = analyse_if_pickle(job)
        if as_pickle is not None:
            return as_pickle
        why = unscannable_reason(job.ref)
        if why is None or _is_protobuf(job):
            return Analysis()  # sentencepiece .model and other protobuf data: nothing runs
        return Analysis([Unscannable(job.ref.name, why)])


def _is_protobuf(job: Job) -> bool:
    """Do the whole file's bytes parse as one protobuf message (bounded field count)?"""
    if not job.size or job.size < 2:
        return False
    with job.source.open() as raw:
        f: BinaryIO = raw
        if not raw.seekable():  # archive members stream: small ones are read whole
            if job.size > MAX_INSPECTED_TEXT:
                return False
            f = io.BytesIO(raw.read(job.size))
        reader = Reader(f, job.size, job.deadline, budget=1_000_000)
        try:
            seen = sum(1 for _ in reader.fields(0, job.size))
        except (WireError, TimeoutError):
            return False
    return seen > 0


# names model loaders (torch.load, joblib.load, np.load, keras, onnx, gguf, …) are handed
LOADER_EXTENSIONS = frozenset(
    {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy", ".npz", ".onnx"}
    | {".keras", ".h5", ".hdf5", ".gguf", ".safetensors", ".data", ".model"}
)
_MODEL_FILES = re.compile(
    r"^(config\.json|model_index\.json|.+\.(safetensors|bin|pt|pth|ckpt|onnx|gguf|h5|keras|pkl|joblib))$"
)


def _onnx_beside(path: str) -> bool:
    stem = path[: -len(".data")]
    return stem.lower().endswith(".onnx") and os.path.isfile(stem)


def unscannable_reason(ref: ArtifactRef) -> str | None:
    """Why bytes of no known format must not pass: a model loader would be handed them."""
    name = ref.name
    if name.startswith("."):
        return None  # .DS_Store, .gitattributes and friends
    ext = os.path.splitext(name)[1].lower()
    if ext == ".data" and not ref.member_chain and _onnx_beside(ref.path):
        return None  # ONNX external tensor data (model.onnx.data): raw bytes onnx reads
    if ext in LOADER_EXTENSIONS:
        return f"named {ext}, which model loaders open"
    if ext or ref.member_chain:
        return None
    folder = os.path.dirname(ref.path) or "."
    try:
        with os.scandir(folder) as entries:
            siblings = [e.name for _, e in zip(range(2000), entries, strict=False)]
    except OSError:
        return None
    if any(_MODEL_FILES.match(s) for s in siblings if s != name):
        return "no extension, inside a model folder"
    return None
