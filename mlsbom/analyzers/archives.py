"""Zip containers: PyTorch checkpoints, NumPy .npz and plain zips, read the way PyTorch reads them.

Members are located through the central directory and read from the local header's data offset
without CRC checks and whatever the flag bits say (as miniz does in torch.load), so a member that
Python's zipfile would refuse is still analysed. Every entry a loader could pick is a child:
duplicates (zipfile takes the last, miniz's case-insensitive binary search any of them), both
directories when miniz and zipfile read different ones, directory entries that hold data. A
streamed zip (a member, a decompressed stream) is copied once (`spool.spooled`) so its members
never decompress it again.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from mlsbom import zipfmt, zipmember
from mlsbom.analyzers.base import Analysis, Child, Hint, Job
from mlsbom.analyzers.tar_archives import name_problem
from mlsbom.budget import WorkBudget
from mlsbom.facts import ArchiveEntry, Fact, LimitExceeded, ParseError, TorchCheckpoint, ZipAnomaly
from mlsbom.models import Format
from mlsbom.sources import (
    BytesSource,
    FileSource,
    Source,
    SourceError,
    SourceLimit,
    capped,
    open_seekable,
)
from mlsbom.spool import SpooledSource, spooled

_STORAGE = re.compile(r"(^|/)data/\d+$")
_TORCH_META = re.compile(
    r"(^|/)(version|byteorder|\.format_version|\.storage_alignment|\.data/version"
    r"|\.data/serialization_id)$"
)
_PKL = (".pkl", ".debug_pkl")


def _first_member_name(head: bytes) -> str:
    if len(head) < 30 or not head.startswith(b"PK\x03\x04"):
        return ""
    n = int.from_bytes(head[26:28], "little")
    return head[30 : 30 + n].decode("utf-8", "replace")


_TORCHSCRIPT = re.compile(r"(^|/)(code/.+\.py|constants\.pkl)$", re.IGNORECASE)
_KERAS_WEIGHTS = {"metadata.json", "model.weights.h5", "model.weights.npz"}


def zipfile_name(name: str) -> str:
    """The name Python's zipfile gives a member: cut at the first NUL (zipfile 3.11
    `ZipInfo.__init__`); on Windows it also turns backslashes into slashes."""
    return name.split("\x00", 1)[0]


def _torch_pickle(name: str) -> bool:
    """`<archive>/data.pkl` as torch looks it up: miniz's case-insensitive match (torch 2.x
    `PyTorchStreamReader::getRecordID`, `mz_zip_reader_locate_file` with flags 0); the folder
    is whatever precedes the first `/` of the first entry, so any folder counts."""
    low = name.lower()
    return low == "data.pkl" or low.endswith("/data.pkl")


def _classify(names: list[str], file_name: str = "") -> Format:
    if any(_torch_pickle(n) for n in names):
        if any(_TORCHSCRIPT.search(n) for n in names):
            return Format.TORCHSCRIPT
        return Format.PYTORCH_ZIP
    views = {zipfile_name(n) for n in names}
    if "config.json" in views and (_KERAS_WEIGHTS & views or file_name.lower().endswith(".keras")):
        return Format.KERAS  # keras.saving reads config.json alone; metadata is optional
    files = [n for n in views if not n.endswith("/")]
    if files and all(n.endswith(".npy") for n in files):
        return Format.NUMPY_ZIP
    return Format.ZIP


def _forced(fmt: Format, name: str) -> Format | None:
    """How the loader treats a member whatever its bytes look like."""
    low = name.lower()
    if fmt in (Format.PYTORCH_ZIP, Format.TORCHSCRIPT) and low.endswith(_PKL):
        return Format.PICKLE
    if fmt is Format.TORCHSCRIPT and "code/" in low and low.endswith(".py"):
        return Format.PYTHON  # TorchScript source, compiled and run by torch.jit.load
    if fmt is Format.KERAS and zipfile_name(name) == "config.json":
        return Format.KERAS_CONFIG
    return None


def _member_source(
    parent: Source, entry: zipfmt.ZipEntry, maximum: int, budget: WorkBudget
) -> Source:
    def opener() -> BinaryIO:
        budget.check()
        f = open_seekable(parent, maximum)
        try:
            return zipmember.open_member(f, entry, max_bytes=maximum, budget=budget)
        except BaseException:
            f.close()
            raise

    return capped(opener, maximum, entry.uncompressed_size)


def _shared_bytes(entries: list[zipfmt.ZipEntry]) -> int:
    """Physical bytes under the overlapping entries (the union of their spans)."""
    spans = sorted(
        (e.data_offset, e.data_offset + e.compressed_size)
        for e in entries
        if e.data_offset is not None and "overlapping-data" in e.anomalies
    )
    total, reach = 0, 0
    for lo, hi in spans:
        lo = max(lo, reach)
        if hi > lo:
            total, reach = total + hi - lo, hi
    return total


def _loadable_dir(entry: zipfmt.ZipEntry) -> bool:
    """A directory entry is skipped only when it holds nothing (zipfile opens it all the same)."""
    return entry.compressed_size > 0 or entry.uncompressed_size > 0


def appended_zip(fmt: Format, source: Source, size: int | None) -> Child | None:
    """A zip directory at the end of a file whose head is not a zip (a self-extracting stub or
    a polyglot): zipfile-based loaders (Keras, `zipfile.is_zipfile`) open it, so it is
    analysed as a zip child. Only sources that re-open cheaply are probed."""
    cheap = isinstance(source, FileSource | BytesSource | SpooledSource)
    if fmt in ZipAnalyzer.formats or size is None or size < 22 or not cheap:
        return None
    try:
        with source.open() as f:
            if not zipfmt.has_directory(f, size):
                return None
    except (SourceError, OSError, ValueError):
        return None  # the file's own analysis reports what cannot be read
    return Child("<appended zip>", source, declared_size=size, force=Format.ZIP)


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
        if first.lower().endswith(".pkl"):
            return Format.PYTORCH_ZIP
        return Format.ZIP

    def analyze(self, job: Job) -> Analysis:
        limits = job.limits
        try:
            source = spooled(job.source, limits.max_member_bytes)  # decompressed once
            with open_seekable(source, limits.max_member_bytes) as f:
                size = job.size if source is job.source and job.size is not None else None
                size = size if size is not None else f.seek(0, 2)
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
        overlapping = [e.name for e in entries if "overlapping-data" in e.anomalies]
        if overlapping:  # one fact, not one per entry of a many-entry bomb
            facts.append(ZipAnomaly(overlapping[0], f"overlapping-data:{len(overlapping)}"))
            job.budget.inflate(0, _shared_bytes(entries))  # re-reads of them count as nothing
        for entry in entries:
            facts.extend(
                ZipAnomaly(entry.name, a) for a in entry.anomalies if a != "overlapping-data"
            )
            problem = name_problem(entry.name)
            if problem:
                facts.append(ArchiveEntry(entry.name[:300], problem))
            if entry.is_dir and not _loadable_dir(entry):
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
                    _member_source(source, entry, limits.max_member_bytes, job.budget),
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
