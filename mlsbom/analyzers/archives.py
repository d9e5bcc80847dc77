"""Zip containers: PyTorch checkpoints, NumPy .npz and plain zips, read the way PyTorch reads them.

Members are located through the central directory and read from the local header's data offset
without CRC checks and whatever the flag bits say (as miniz does in torch.load), so a member that
Python's zipfile would refuse is still analysed.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from mlsbom import zipfmt
from mlsbom.analyzers.base import Analysis, Child, Hint, Job
from mlsbom.analyzers.tar_archives import ArchiveEntry, name_problem
from mlsbom.facts import Fact, LimitExceeded, ParseError, TorchCheckpoint, ZipAnomaly
from mlsbom.models import Format
from mlsbom.sources import Source, SourceLimit, capped, open_seekable

_STORAGE = re.compile(r"(^|/)data/\d+$")
_TORCH_META = re.compile(
    r"(^|/)(version|byteorder|\.format_version|\.storage_alignment|\.data/version"
    r"|\.data/serialization_id)$"
)


def _first_member_name(head: bytes) -> str:
    if len(head) < 30 or not head.startswith(b"PK\x03\x04"):
        return ""
    n = int.from_bytes(head[26:28], "little")
    return head[30 : 30 + n].decode("utf-8", "replace")


_TORCHSCRIPT = re.compile(r"(^|/)(code/.+\.py|constants\.pkl)$")
_KERAS_WEIGHTS = {"metadata.json", "model.weights.h5", "model.weights.npz"}


def _classify(names: list[str], file_name: str = "") -> Format:
    if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        if any(_TORCHSCRIPT.search(n) for n in names):
            return Format.TORCHSCRIPT
        return Format.PYTORCH_ZIP
    if "config.json" in names and (
        _KERAS_WEIGHTS & set(names) or file_name.lower().endswith(".keras")
    ):
        return Format.KERAS  # keras.saving reads config.json alone; metadata is optional
    files = [n for n in names if not n.endswith("/")]
    if files and all(n.endswith(".npy") for n in files):
        return Format.NUMPY_ZIP
    return Format.ZIP


def _forced(fmt: Format, name: str) -> Format | None:
    """How the loader treats a member whatever its bytes look like."""
    if fmt in (Format.PYTORCH_ZIP, Format.TORCHSCRIPT) and name.endswith((".pkl", ".debug_pkl")):
        return Format.PICKLE
    if fmt is Format.TORCHSCRIPT and "code/" in name and name.endswith(".py"):
        return Format.PYTHON  # TorchScript source, compiled and run by torch.jit.load
    if fmt is Format.KERAS and name == "config.json":
        return Format.KERAS_CONFIG
    return None


def _member_source(parent: Source, entry: zipfmt.ZipEntry, maximum: int) -> Source:
    def opener() -> BinaryIO:
        f = open_seekable(parent, maximum)
        try:
            return zipfmt.open_member(f, entry, max_bytes=maximum)
        except BaseException:
            f.close()
            raise

    return capped(opener, maximum, entry.uncompressed_size)


class ZipAnalyzer:
    formats: tuple[Format, ...] = (
        Format.PYTORCH_ZIP,
        Format.TORCHSCRIPT,
        Format.NUMPY_ZIP,
        Format.KERAS,
        Format.ZIP,
    )

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if not zipfmt.is_zip(head):
            # keras.saving accepts whatever zipfile.is_zipfile accepts: data before the archive
            keras = hint.name.lower().endswith(".keras") and not head.startswith(b"\x89HDF")
            return Format.ZIP if keras else None
        first = _first_member_name(head)
        if first.endswith(".npy"):
            return Format.NUMPY_ZIP
        if first.endswith(".pkl"):
            return Format.PYTORCH_ZIP
        return Format.ZIP

    def analyze(self, job: Job) -> Analysis:
        limits = job.limits
        try:
            with open_seekable(job.source, limits.max_member_bytes) as f:
                size = job.size if job.size is not None else f.seek(0, 2)
                entries = zipfmt.read_entries(f, size, max_entries=limits.max_members)
        except zipfmt.ZipLimitError as exc:
            return Analysis(
                [LimitExceeded("zip-entries", limits.max_members), ParseError(str(exc))]
            )
        except zipfmt.ZipFormatError as exc:
            return Analysis([ParseError(f"zip: {exc}", None)])
        except SourceLimit as exc:
            return Analysis([LimitExceeded(exc.limit, exc.maximum)])
        fmt = _classify([e.name for e in entries], job.ref.name)
        facts: list[Fact] = []
        children: list[Child] = []
        pickles: list[str] = []
        storages = 0
        for entry in entries:
            facts.extend(ZipAnomaly(entry.name, a) for a in entry.anomalies)
            problem = name_problem(entry.name)
            if problem:
                facts.append(ArchiveEntry(entry.name[:300], problem))
            if entry.is_dir:
                continue
            torch_like = fmt in (Format.PYTORCH_ZIP, Format.TORCHSCRIPT)
            if torch_like and _STORAGE.search(entry.name):
                storages += 1  # raw tensor bytes: torch never unpickles them
                continue
            if torch_like and _TORCH_META.search(entry.name):
                continue
            force = _forced(fmt, entry.name)
            if force is Format.PICKLE:
                pickles.append(entry.name)
            children.append(
                Child(
                    entry.name,
                    _member_source(job.source, entry, limits.max_member_bytes),
                    declared_size=entry.uncompressed_size,
                    compressed_size=entry.compressed_size if entry.method else None,
                    force=force,
                )
            )
        if fmt is Format.PYTORCH_ZIP:
            facts.append(TorchCheckpoint("zip", tuple(pickles), storages))
        elif fmt is Format.TORCHSCRIPT:
            facts.append(TorchCheckpoint("torchscript", tuple(pickles), storages))
        return Analysis(facts, children, fmt)
