"""Raw pickle streams and their dialects: plain pickle, joblib, dill and cloudpickle."""

from __future__ import annotations

from dataclasses import replace
from typing import BinaryIO

from mlsbom.analyzers.base import Analysis, Child, Hint, Job, analyzer_for, first_sniff
from mlsbom.analyzers.pickle_ops import OPCODES
from mlsbom.analyzers.pickle_vm import PickleWalker, looks_like_pickle, probe_file
from mlsbom.config import Limits
from mlsbom.facts import Fact, LimitExceeded, Unreadable
from mlsbom.models import Format
from mlsbom.sources import SourceError, SourceLimit

# formats whose analysers walk the pickle that pickle.load reads from offset 0
READS_PICKLE_AT_0 = frozenset(
    {Format.PICKLE, Format.JOBLIB, Format.DILL, Format.CLOUDPICKLE, Format.PYTORCH_LEGACY}
)
_DIALECTS = (
    (b"joblib.numpy_pickle", Format.JOBLIB),
    (b"dill._dill", Format.DILL),
    (b"cloudpickle", Format.CLOUDPICKLE),
)
_LIMITS = Limits()


def walk_pickles(
    f: BinaryIO,
    job: Job,
    *,
    start: int = 0,
    size: int | None = None,
    max_streams: int | None = None,
    tensor_stream: str = "0",
) -> tuple[PickleWalker, list[Fact]]:
    """Walk the pickle streams in `f` from `start`; read errors become facts, never exceptions."""
    walker = PickleWalker(job.limits, job.deadline)
    walker.tensor_stream = tensor_stream
    walker.persistent_ok = tensor_stream != "0" or _in_torch_zip(job)
    extra: list[Fact] = []
    try:
        walker.walk_file(f, size=size, start=start, max_streams=max_streams)
    except SourceLimit as exc:
        extra.append(LimitExceeded(exc.limit, exc.maximum))
    except SourceError as exc:
        extra.append(Unreadable(str(exc)))
    return walker, walker.facts() + extra


# pickles torch.load reads with a persistent_load (torch 2.x serialization.py _load)
_TORCH_MEMBERS = ("data.pkl", "constants.pkl", ".debug_pkl")


def _in_torch_zip(job: Job) -> bool:
    chain = job.ref.member_chain
    return bool(chain) and chain[-1].endswith(_TORCH_MEMBERS)


class PickleAnalyzer:
    formats: tuple[Format, ...] = (Format.PICKLE, Format.JOBLIB, Format.DILL, Format.CLOUDPICKLE)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if not looks_like_pickle(head, _LIMITS):
            return None
        return self.dialect(head)

    def dialect(self, head: bytes) -> Format:
        for marker, fmt in _DIALECTS:
            if marker in head:
                return fmt
        return Format.PICKLE

    def analyze(self, job: Job) -> Analysis:
        other = _other_reading(job)
        if other is not None:
            with job.source.open() as f:
                is_pickle = probe_file(f, job.size, job.limits)
            if not is_pickle:  # the bytes are the other format after all: analyse them so
                return _as_format(job, other)
        with job.source.open() as f:
            _, facts = walk_pickles(f, job, size=job.size)
        found = Analysis(facts)
        if other is not None:  # a polyglot: its other reading is analysed too
            found.children.append(Child(f"<as {other.value}>", job.source, force=other))
        return found


def analyse_if_pickle(job: Job) -> Analysis | None:
    """Where detection was unsure, the walker decides on the whole file (bounded by budgets).

    A stream that pickle.load would accept (it reaches STOP, or imports or calls before it
    fails) is analysed as a pickle, however large the values before its first import are.
    """
    if not job.head or job.head[0] not in OPCODES:
        return None
    with job.source.open() as f:
        if not probe_file(f, job.size, job.limits):
            return None
    with job.source.open() as f:
        _, facts = walk_pickles(f, job, size=job.size)
    return Analysis(facts, format=PickleAnalyzer().dialect(job.head))


def _other_reading(job: Job) -> Format | None:
    """The non-pickle format the registry sees in these bytes, if any (a polyglot)."""
    fmt = first_sniff(job.registry, job.head, Hint(job.ref.name, job.size))
    if fmt in READS_PICKLE_AT_0 or fmt in (Format.UNKNOWN, Format.TEXT):
        return None
    return fmt


def _as_format(job: Job, fmt: Format) -> Analysis:
    found = analyzer_for(job.registry, fmt).analyze(replace(job, format=fmt))
    found.format = found.format or fmt
    return found
