"""The counted work budget of one scanned file: the same bytes give the same verdict anywhere.

The engine makes one `WorkBudget` per walked file and hands it to every analyser through
`Job.budget`; readers charge it as they work. What is counted, never timed:
- bytes produced by every decompressor (zip members, gzip/bz2/xz/lzma/zlib/lz4 streams, 7z), at
  all nesting levels together, against `Limits.max_inflated_bytes`;
- the same bytes against the file's own size (all levels together): past `ratio_slack_bytes`,
  more than `max_ratio` times the bytes on disk is a bomb. Nested zips (42.zip), entries that
  share one kernel (overlapping-entry zips) and headers that lie about sizes all amplify the
  file's bytes, so all stop early; when the file's size is unknown, the compressed bytes the
  decompressors consumed stand in;
- artefacts reached from the file (`max_artifacts`).
The bytes a file's decompressors produced are recorded on it (`WorkDone`) and charged to a
`ScanBudget` per target and per scan in walk order; when what is left could bind, the file is
analysed with that `Allowance` (and not cached).
Nesting depth and member counts stay structural checks in the engine (`_child_tasks`). Once
spent, a budget stays spent: the engine analyses nothing more of that file and reports the
limit once. Wall-clock deadlines (`Limits.max_seconds`) remain a last resort, reported as
`wall-clock-seconds`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import BinaryIO, cast

from mlsbom.config import Limits
from mlsbom.facts import Fact, LimitExceeded, WorkDone
from mlsbom.models import ArtifactRef, ArtifactResult, Format
from mlsbom.sources import SourceLimit

WALL_CLOCK = "wall-clock-seconds"


class BudgetExceeded(SourceLimit):
    """The file's counted budget is spent (a SourceLimit: every reader already handles it)."""


@dataclass(frozen=True, slots=True)
class Allowance:
    """What is left of the target's or the scan's decompression budget, whichever is less."""

    bytes: int
    limit: str  # target-inflated-bytes | scan-inflated-bytes
    maximum: int


class ScanBudget:
    """Decompressed bytes counted per target and per scan, in walk order.

    Files are charged in walk order whatever order they were analysed in, so a scan gives the
    same verdicts with `--jobs 1` and `--jobs N` and with or without the result cache: a file
    whose recorded work exceeds what is left is analysed again with exactly that allowance.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.scan_used = 0
        self.target_used = 0

    def begin_target(self) -> None:
        self.target_used = 0

    def allowance(self) -> Allowance:
        lim = self.limits
        target = lim.max_target_inflated_bytes - self.target_used
        scan = lim.max_scan_inflated_bytes - self.scan_used
        if target <= scan:
            return Allowance(max(target, 0), "target-inflated-bytes", lim.max_target_inflated_bytes)
        return Allowance(max(scan, 0), "scan-inflated-bytes", lim.max_scan_inflated_bytes)

    def fits(self, results: list[ArtifactResult]) -> bool:
        """Whether a file's results (made without an allowance) stay within what is left."""
        return work_done(results) <= self.allowance().bytes

    def charge(self, results: list[ArtifactResult]) -> None:
        used = work_done(results)
        self.scan_used += used
        self.target_used += used


def work_done(results: list[ArtifactResult]) -> int:
    """The decompressed bytes one file's analysis recorded (its WorkDone fact)."""
    return sum(f.inflated for r in results[:1] for f in r.facts if isinstance(f, WorkDone))


@dataclass(slots=True)
class WorkBudget:
    """Counters for one walked file; `spent` holds the first limit reached."""

    limits: Limits = field(default_factory=Limits)
    physical: int | None = None  # the walked file's size on disk
    inflated: int = 0
    consumed: int = 0
    artifacts: int = 0
    spent: LimitExceeded | None = None
    allowance: Allowance | None = None  # what the target and the scan have left for this file

    def _stop(self, limit: str, maximum: int, value: int) -> BudgetExceeded:
        if self.spent is None:
            self.spent = LimitExceeded(limit, maximum, value)
        return BudgetExceeded(self.spent.limit, self.spent.maximum)

    def check(self) -> None:
        """Raise if the budget is already spent (a reader about to start more work)."""
        if self.spent is not None:
            raise BudgetExceeded(self.spent.limit, self.spent.maximum)

    def inflate(self, produced: int, consumed: int = 0) -> None:
        """Charge `produced` decompressed bytes made from `consumed` compressed ones."""
        self.check()
        self.inflated += produced
        self.consumed += consumed
        lim = self.limits
        if self.inflated > lim.max_inflated_bytes:
            raise self._stop("inflated-bytes", lim.max_inflated_bytes, self.inflated)
        left = self.allowance
        if left is not None and self.inflated > left.bytes:
            raise self._stop(left.limit, left.maximum, self.inflated)
        ratio = self.inflated // max(self.physical or self.consumed, 1)
        if self.inflated > lim.ratio_slack_bytes and ratio > lim.max_ratio:
            raise self._stop("compression-ratio", lim.max_ratio, ratio)

    def artifact(self) -> None:
        """Charge one artefact (the file itself or a member at any depth)."""
        self.check()
        self.artifacts += 1
        if self.artifacts > self.limits.max_artifacts:
            raise self._stop("artifacts-per-file", self.limits.max_artifacts, self.artifacts)


CHARGE_BYTES = 1 << 20  # the most a metered read produces before the budget is charged


class _Counted(io.RawIOBase):
    """Counts the bytes read through it (the compressed side of a decompressor)."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner, self.count = inner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _Metered(io.RawIOBase):
    """Charges a budget for the bytes a decompressor produces (and what it consumed for them)."""

    def __init__(self, inner: BinaryIO, budget: WorkBudget, source: _Counted | None) -> None:
        self._inner, self._budget, self._source, self._seen = inner, budget, source, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Fill `buffer` in pieces of at most CHARGE_BYTES, charging after each piece, so one
        large read (a whole-file probe) overshoots the budget by one piece at most."""
        filled = 0
        while filled < len(buffer):
            data = self._inner.read(min(len(buffer) - filled, CHARGE_BYTES))
            consumed = 0
            if self._source is not None:
                consumed, self._seen = self._source.count - self._seen, self._source.count
            self._budget.inflate(len(data), consumed)
            if not data:
                break
            buffer[filled : filled + len(data)] = data
            filled += len(data)
        return filled

    def close(self) -> None:
        self._inner.close()
        super().close()


def metered_decompressor(
    compressed: BinaryIO, decompress: Callable[[BinaryIO], BinaryIO], budget: WorkBudget
) -> BinaryIO:
    """`decompress(compressed)` wrapped so that every produced byte, and the compressed bytes
    consumed for it, are charged to `budget` (the decoder itself is untouched)."""
    budget.check()
    counted = _Counted(compressed)
    inner = decompress(cast(BinaryIO, io.BufferedReader(counted, 1 << 16)))
    return cast(BinaryIO, io.BufferedReader(_Metered(inner, budget, counted), 1 << 16))


def wall_clock(fact: Fact, seconds: float) -> Fact:
    """Analysers report their deadline as `seconds`; it is shown as the last-resort limit."""
    if isinstance(fact, LimitExceeded) and fact.limit == "seconds":
        return replace(fact, limit=WALL_CLOCK, maximum=int(seconds))
    return fact


def out_of_memory(ref: ArtifactRef, size: int | None, limits: Limits) -> ArtifactResult:
    """A file's result when its process ran out of the address-space cap scanning it."""
    fact = LimitExceeded("memory", limits.max_address_space)
    return ArtifactResult(ref, Format.UNKNOWN, size, (fact,), ())
