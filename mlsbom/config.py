"""Scan configuration and limits (frozen; no click here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from mlsbom.signing.signers import SignerPolicy


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep the scanner's time and memory finite on hostile input."""

    max_file_bytes: int = 1 << 40  # larger files are inventoried with a limit finding
    max_depth: int = 4  # container nesting (zip in zip in …)
    max_members: int = 10_000  # members taken from one container
    max_artifacts: int = 20_000  # artefacts reached from one file, all nesting levels together
    max_member_bytes: int = 4 << 30  # uncompressed bytes read from one member
    max_total_member_bytes: int = 16 << 30  # uncompressed bytes across one container
    max_ratio: int = 200  # uncompressed/compressed bytes before a member is a bomb
    max_opcodes: int = 50_000_000
    max_memo: int = 2_000_000
    max_stack: int = 5_000_000
    max_mark_depth: int = 100_000
    max_kept_bytes: int = 8 << 20  # largest bytes value retained (for nested pickles)
    max_nested_pickles: int = 3  # depth of pickles within pickles
    max_streams: int = 16  # concatenated pickles walked in one file
    max_seconds: float = 120.0  # per artefact
    head_bytes: int = 64 << 10  # bytes read for format detection
    max_address_space: int = 4 << 30  # per scanning process (CLI and --jobs workers)
    # counted per walked file, all nesting levels together (budget.WorkBudget)
    max_inflated_bytes: int = 16 << 30  # bytes produced by decompressors
    ratio_slack_bytes: int = 16 << 20  # inflated bytes before max_ratio applies to the total
    max_target_inflated_bytes: int = 64 << 30  # decompressed bytes, all files of one target
    max_scan_inflated_bytes: int = 256 << 30  # decompressed bytes, all targets of one scan


class Progress(Protocol):
    """Told how far a scan is: totals once the walk is done, then each finished file."""

    def start(self, files: int, total_bytes: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """What to scan and how; built by the CLI or by library callers."""

    limits: Limits = field(default_factory=Limits)
    explain: bool = False
    hash_files: bool = False  # SHA-256 of every file (for the SBOM and signature checks)
    signatures: SignerPolicy = field(default_factory=SignerPolicy)  # whom to trust, if required
    jobs: int = 1  # worker processes for local files (results are identical to jobs=1)
    executor: str = "local"  # local | dask | dask://HOST:PORT (mlsbom.executors.executor_for)
    cache: bool = False  # reuse results of unchanged files (result_cache.py)
    progress: Progress | None = None  # the CLI shows a bar on a TTY


def cap_address_space(limit: int) -> None:
    """Bound this process's address space (MLSBOM_MAX_MEMORY overrides `limit`, in bytes).

    An analysis that runs away then fails with MemoryError, which the engine turns into a limit
    finding on that file while the scan goes on, instead of the machine swapping. A lower limit
    already in place is kept.
    """
    import os

    try:
        import resource

        wanted = int(os.environ.get("MLSBOM_MAX_MEMORY", limit))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft > wanted:
            if hard != resource.RLIM_INFINITY:
                wanted = min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ImportError, ValueError, OSError):
        pass  # not on this platform, or not allowed
