"""`mlsbom scan` for registry sweeps: `--targets-from`, `--sbom-dir`, `--format jsonl`, `--resume`.

A scan becomes a sweep when it writes per-target output (`--format jsonl` or `--sbom-dir`) or
resumes one: targets are then scanned one at a time (sweep.py) and each one's line and BOM are
written as it completes (sweep_output.py). A run summary goes to stderr.
"""

from __future__ import annotations

import functools
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from mlsbom.config import Progress
from mlsbom.errors import MlsbomError
from mlsbom.hub.walk import hub_totals
from mlsbom.reporters.escape import json_safe, printable
from mlsbom.sweep import Judge, TargetOutcome, check_targets, exit_code, sweep
from mlsbom.sweep_output import JsonlSink, Recorded, SbomDir, check_folder, read_lines

JSONL = "jsonl"
Runner = Callable[[Sequence[str], Judge], Iterable[TargetOutcome]]
_STATES = (("pass", "passed"), ("warn", "warned"), ("fail", "failed"), ("error", "errors"))


@dataclass(frozen=True, slots=True)
class SweepOptions:
    targets_from: str | None = None
    sbom_dir: Path | None = None
    resume: bool = False

    def active(self, fmt: str) -> bool:
        """Whether the scan writes per target (then it runs as a sweep)."""
        return fmt == JSONL or self.sbom_dir is not None or self.resume


def sweep_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--targets-from`, `--sbom-dir` and `--resume`; hand the command `sweep=SweepOptions`."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        opts = SweepOptions(
            kwargs.pop("targets_from"), kwargs.pop("sbom_dir"), kwargs.pop("resume")
        )
        return func(sweep=opts, **kwargs)

    wrapper = click.option(
        "--resume",
        is_flag=True,
        envvar="MLSBOM_RESUME",
        help="Skip targets already complete in the --format jsonl -o FILE and/or --sbom-dir "
        "output of an earlier run; their recorded verdicts still count for the exit code.",
    )(wrapper)
    wrapper = click.option(
        "--sbom-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="MLSBOM_SBOM_DIR",
        help="Write one CycloneDX BOM per target into this folder (with an index.jsonl).",
    )(wrapper)
    return click.option(
        "--targets-from",
        metavar="FILE",
        envvar="MLSBOM_TARGETS_FROM",
        help="Also scan the targets listed in FILE ('-': stdin), one per line; blank lines "
        "and # comments are ignored.",
    )(wrapper)


def check_sweep(opts: SweepOptions, fmt: str, output: Path | None) -> None:
    """Usage errors and unwritable outputs, before anything is scanned."""
    if opts.resume and opts.sbom_dir is None and not (fmt == JSONL and output is not None):
        raise MlsbomError(
            "--resume needs an output to resume from",
            hint="add --format jsonl -o FILE and/or --sbom-dir DIR",
        )
    if opts.sbom_dir is not None:
        check_folder(opts.sbom_dir)


def run_sweep(
    opts: SweepOptions,
    targets: tuple[str, ...],
    judge: Judge,
    fmt: str,
    output: Path | None,
    spec: str,
    keep: bool,
    runner: Runner = sweep,
    progress: Progress | None = None,
) -> tuple[int, list[TargetOutcome]]:
    """Scan target by target, writing each one's outputs; the exit code over every target
    (resumed ones included) and, when `keep`, the outcomes for the whole-run reports. `runner`
    judges the targets left to do and yields their outcomes in any order, as they complete
    (sweep.sweep: one after the other here)."""
    targets = tuple(dict.fromkeys(targets))
    check_targets(targets)
    jsonl_file = output if fmt == JSONL else None
    folder = SbomDir(opts.sbom_dir, spec, opts.resume) if opts.sbom_dir is not None else None
    done = _completed(opts, jsonl_file, folder)
    stream: IO[str] | None = None
    if jsonl_file is not None:
        stream = open(jsonl_file, "a" if opts.resume else "w", encoding="utf-8")  # noqa: SIM115
    sink = JsonlSink(stream or sys.stdout) if fmt == JSONL else None
    verdicts = Counter(done[json_safe(t)].verdict for t in targets if json_safe(t) in done)
    todo = [t for t in targets if json_safe(t) not in done]
    kept: list[TargetOutcome] = []
    read = held = 0
    if progress is not None:  # targets done, whichever worker or thread finished them
        progress.start(len(todo), 0)
    try:
        for outcome in runner(todo, judge):
            if progress is not None:
                progress.advance(0)
            name = folder.write(outcome) if folder is not None else None
            if sink is not None:
                sink.write(outcome, name)
            verdicts[outcome.verdict] += 1
            if outcome.result is not None:
                hub = hub_totals(outcome.result.artifacts)
                read, held = read + hub.bytes_read, held + hub.total_bytes
            if outcome.error is not None:
                click.echo(f"error: {printable(outcome.error)}", err=True)
            if keep:
                kept.append(outcome)
    finally:
        if progress is not None:
            progress.finish()
        if stream is not None:
            stream.close()
        if folder is not None:
            folder.close()
    resumed = len(targets) - len(todo)
    states = ", ".join(f"{verdicts[v]} {w}" for v, w in _STATES)
    click.echo(
        f"sweep: {len(targets)} targets ({resumed} resumed): {states}; "
        f"hub: read {read:,} of {held:,} bytes",
        err=True,
    )
    order = {t: n for n, t in enumerate(targets)}
    kept.sort(key=lambda o: order[o.target])  # a runner may finish them in any order
    return exit_code(verdicts.elements()), kept


def _completed(
    opts: SweepOptions, jsonl_file: Path | None, folder: SbomDir | None
) -> dict[str, Recorded]:
    """Targets complete in every output being resumed (a target needs all of them)."""
    if not opts.resume:
        return {}
    found: list[dict[str, Recorded]] = []
    if jsonl_file is not None:
        found.append(read_lines(jsonl_file, cut_partial=True))
    if folder is not None:
        found.append(folder.recorded)
    first, *rest = found
    return {t: r for t, r in first.items() if all(t in other for other in rest)}
