"""Registry sweeps: many targets, each scanned, judged and reported as it completes.

`sweep(targets, assess)` drives the engine one target at a time and yields a `TargetOutcome` for
each, so a caller can write a JSON line and a BOM per target before the next one starts (an
interrupted sweep keeps what it finished). Each target is judged exactly as a scan of that target
alone: same findings, same verdict. Against one scan of all targets at once the differences are
the scan-wide decompression budget (here it applies per target) and that a target which cannot be
walked (a hub repository gone or still rate limited) is an `error` outcome for that target instead
of ending the whole run; the sweep then exits 2 after the others are done.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlsbom.config import ScanConfig
from mlsbom.digests import Digests, InProcessDigests
from mlsbom.errors import MlsbomError, TargetError
from mlsbom.executors import Executor
from mlsbom.models import ArtifactResult, ScanResult
from mlsbom.policy import Decision, Policy, decide
from mlsbom.regular_file import read_regular
from mlsbom.reporters.escape import printable
from mlsbom.rules import RuleSet

MAX_TARGETS_FILE = 256 << 20  # a million hub ids is about 40 MB


def read_targets(source: str) -> list[str]:
    """Targets from a file (or `-`: stdin), one per line; blank lines and `#` comments ignored.
    A FIFO or device named as the file is an error, never a blocking read."""
    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_TARGETS_FILE + 1)
            if len(raw) > MAX_TARGETS_FILE:
                raise OSError(f"larger than {MAX_TARGETS_FILE} bytes")
        else:
            raw = read_regular(source, MAX_TARGETS_FILE)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise MlsbomError(f"--targets-from {printable(source)}: cannot read ({reason})") from None
    text = raw.decode("utf-8", errors="surrogateescape")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def check_targets(targets: Iterable[str]) -> None:
    """TargetError (exit 2) for a missing or malformed target, before anything is scanned.
    Hub targets are checked for their form here; the hub is asked when each one is scanned."""
    from mlsbom.hub.target import is_hub, parse
    from mlsbom.walk import walk

    for target in targets:
        if is_hub(target):
            parse(target)
        elif next(iter(walk(target)), None) is None:  # the walk checks before its first file
            raise TargetError(
                f"nothing to scan in {printable(target)}: the folder holds no files",
                hint="check the path; an empty folder is an error so that a sweep never "
                "passes on nothing",
            )


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    """One target of a sweep: its result and decision, or why it could not be scanned."""

    target: str
    result: ScanResult | None
    decision: Decision | None
    seconds: float
    error: str | None = None

    @property
    def verdict(self) -> str:
        """`fail` (the policy fails it), `warn` (findings below the gate), `pass`, or `error`."""
        if self.result is None or self.decision is None:
            return "error"
        if not self.decision.passed:
            return "fail"
        return "warn" if any(not f.waived for f in self.result.findings) else "pass"


Judge = Callable[[str], tuple[ScanResult, Decision]]


def judge_targets(
    config: ScanConfig,
    rules: RuleSet,
    policy: Policy,
    check: Callable[[ScanResult], ScanResult] = lambda r: r,
    executor: Executor | None = None,
    digests: Callable[[], Digests] = InProcessDigests,
) -> Judge:
    """Scan one target and decide it, as `mlsbom scan TARGET` would (`check` may raise for an
    empty folder, or drop baseline findings)."""
    from mlsbom.engine import scan
    from mlsbom.prescan import start

    def assess(target: str) -> tuple[ScanResult, Decision]:
        began = start([target], config, digests())
        result = check(scan([target], config, rules, began, executor, policy=policy))
        return result, decide(result, policy)

    return assess


def sweep(targets: Sequence[str], assess: Judge) -> Iterator[TargetOutcome]:
    """Each target judged in turn; a target that cannot be walked is an `error` outcome."""
    for target in targets:
        yield _judged(target, assess)


def _judged(target: str, assess: Judge) -> TargetOutcome:
    t0 = time.perf_counter()
    try:
        result, decision = assess(target)
    except TargetError as exc:
        message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        return TargetOutcome(target, None, None, time.perf_counter() - t0, message)
    return TargetOutcome(target, result, decision, time.perf_counter() - t0)


def concurrent(width: int) -> Callable[[Sequence[str], Judge], Iterator[TargetOutcome]]:
    """A runner judging up to `width` targets at once, yielding each as it completes: for a
    distributed executor, whose workers only stay busy when many targets' files are in flight
    (the analysis runs on the workers; this process walks, judges and writes)."""

    def run(targets: Sequence[str], assess: Judge) -> Iterator[TargetOutcome]:
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        todo = iter(targets)
        with ThreadPoolExecutor(max_workers=width) as pool:
            running: set[Future[TargetOutcome]] = set()
            for target in todo:
                running.add(pool.submit(_judged, target, assess))
                if len(running) >= width:
                    break
            while running:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        running.add(pool.submit(_judged, nxt, assess))

    return run


def merged(outcomes: Iterable[TargetOutcome]) -> ScanResult:
    """One ScanResult of every scanned target, for the whole-run reports (text, SARIF, ...), as
    one scan of them all would give: an artefact outside its target that several targets report
    alike (the policy's expired waivers) is kept once; everything else is kept as reported."""
    targets: list[str] = []
    shared: list[ArtifactResult] = []
    artifacts: list[ArtifactResult] = []
    for outcome in outcomes:
        if outcome.result is None:
            continue
        targets.append(outcome.target)
        base = outcome.target.rstrip("/")
        for art in outcome.result.artifacts:
            path = art.ref.path
            if path != base and not path.startswith(base + "/"):
                if art in shared:  # compared by value (facts need not be hashable)
                    continue
                shared.append(art)
            artifacts.append(art)
    artifacts.sort(key=lambda a: a.ref)
    return ScanResult(tuple(targets), tuple(artifacts))


def exit_code(verdicts: Iterable[str]) -> int:
    """2 when a target could not be scanned, else 1 when one fails the policy, else 0."""
    seen = set(verdicts)
    return 2 if "error" in seen else 1 if "fail" in seen else 0


def atomic_write(path: Path, text: str) -> None:
    """Write beside `path`, then rename over it: a file there is always complete."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", errors="backslashreplace")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror or type(exc).__name__
        raise MlsbomError(f"cannot write {printable(str(path))}: {reason}") from None
