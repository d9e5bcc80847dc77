"""Orchestration: walk, detect, analyse, judge. Returns data; never prints."""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlsbom import cross_file
from mlsbom.analyzers import BY_FORMAT
from mlsbom.analyzers.archives import appended_zip
from mlsbom.analyzers.base import Child, Hint, Job
from mlsbom.analyzers.quiet import quiet_parsing
from mlsbom.budget import (
    Allowance,
    ScanBudget,
    WorkBudget,
    WorkDone,
    out_of_memory,
    wall_clock,
    work_done,
)
from mlsbom.config import ScanConfig
from mlsbom.detect import detect
from mlsbom.facts import (
    ExtensionMismatch,
    Fact,
    FormatDetected,
    InternalError,
    LimitExceeded,
    Unreadable,
)
from mlsbom.file_guard import changed_while_hashed, scan_pinned
from mlsbom.hash_child import ChangedWhileRead
from mlsbom.hub import cache
from mlsbom.models import ArtifactRef, ArtifactResult, Format, ScanResult
from mlsbom.prescan import Walked, start
from mlsbom.result_cache import ResultCache, open_cache
from mlsbom.rules import RuleSet, load_rules
from mlsbom.signing.scan_pass import attach
from mlsbom.sources import FileSource, Source, SourceError, SourceLimit
from mlsbom.walk import WalkItem


@dataclass(frozen=True, slots=True)
class _Task:
    ref: ArtifactRef
    source: Source | None
    size: int | None
    facts: tuple[Fact, ...] = ()
    name_hint: str | None = None
    unknown_as: Format | None = None
    force: Format | None = None
    parent_runs_code: bool = False
    preset: Format | None = None


def scan(
    targets: Sequence[str],
    config: ScanConfig,
    rules: RuleSet | None = None,
    began: Walked | None = None,
) -> ScanResult:
    """Scan every target; a missing target raises TargetError before anything is scanned."""
    began = began or start(targets, config)
    targets = began.targets  # each once, as walked
    rules = rules or load_rules()
    walked, files = began.walked, began.files
    items = [item for _, found in walked for item in found]
    signed = began.signed or config.signatures.required or bool(config.signatures.attestations)
    cached = began.hf_caches
    hasher = began.hash_now() if began.needs_digests(config) else None  # policy may require
    if signed:
        from mlsbom.signing.verify import warm_up

        warm_up()  # sigstore's import overlaps the hashing threads
    results: list[ArtifactResult] = []
    store = open_cache(config) if config.cache else None  # one fingerprint for all targets
    if config.progress is not None:
        config.progress.start(len(items), sum(i.size or 0 for i in items))
    spend = ScanBudget(config.limits)
    for target, found in walked:
        scanned = cross_file.check(_scan_items(found, config, rules, store, spend), rules)
        if target.startswith("hf://"):
            from mlsbom.hub.source import HubSource
            from mlsbom.hub.walk import summarise

            remote = [i.source for i in found if isinstance(i.source, HubSource)]
            scanned = summarise(target, scanned, remote)
        results.extend(scanned)
    if hasher is not None:
        for module in config.prepare:  # imports overlap the hashing still under way
            importlib.import_module(module)
        digests = hasher.results()
        results = _with_digests(results, files, digests, rules)
        if signed:
            results = attach(targets, results, files, digests, config.signatures, rules)
        for target in cached:  # blobs re-hashed and compared with their names
            results = cache.attach(target, results, files, digests, rules)
    if config.progress is not None:
        config.progress.finish()
    results.sort(key=lambda a: a.ref)
    return ScanResult(tuple(targets), tuple(results))


def _scan_items(
    items: list[WalkItem],
    config: ScanConfig,
    rules: RuleSet,
    store: ResultCache | None,
    spend: ScanBudget,
) -> list[ArtifactResult]:
    """Every artefact of one target's files, members included; local files in `config.jobs`
    worker processes when there are several (the output is the same as with one). The
    target's and the scan's decompression budgets are charged in walk order either way."""
    spend.begin_target()
    local = [i for i in items if i.source is None or isinstance(i.source, FileSource)]
    if config.jobs > 1 and len(local) > 1 and len(local) == len(items):
        done = _scan_parallel(items, config, rules, store)
    else:
        done = []
        for item in items:
            left = _allowance_for(item, config, spend)
            done.append(_scan_file(item, config, rules, None if left else store, left))
            spend.charge(done[-1])
            _advance(config, item)
        return [r for results in done for r in results]
    scanned = []
    for item, results in zip(items, done, strict=True):
        left = _allowance_for(item, config, spend)
        if left is not None and work_done(results) > left.bytes:
            results = _scan_file(item, config, rules, None, left)  # as a serial scan would
        spend.charge(results)
        scanned.extend(results)
    return scanned


_PIECE_MARGIN = 8 << 20  # what a file's own budget may overshoot by (one read in flight)


def _allowance_for(item: WalkItem, config: ScanConfig, spend: ScanBudget) -> Allowance | None:
    """The target's or scan's remaining budget when it is less than the file's own can reach
    (then it may bind, and the file is analysed with it and not cached); else None."""
    lim = config.limits
    own = lim.max_inflated_bytes
    if item.size is not None:
        own = min(own, max(lim.ratio_slack_bytes, (lim.max_ratio + 1) * item.size))
    left = spend.allowance()
    return left if left.bytes < own + _PIECE_MARGIN else None


def _advance(config: ScanConfig, item: WalkItem) -> None:
    if config.progress is not None:
        config.progress.advance(item.size or 0)


def _scan_file(
    item: WalkItem,
    config: ScanConfig,
    rules: RuleSet,
    store: ResultCache | None = None,
    allowance: Allowance | None = None,
) -> list[ArtifactResult]:
    """One walked file and its members (depth first), bounded by its WorkBudget; read through
    one pinned descriptor, checked for changes, cached with `store` (file_guard.py). Running out
    of address space anywhere in it (not only inside an analyser) is a limit on that file."""
    try:
        with quiet_parsing():  # detection, analysis and explanation alike
            analyse = lambda i: _scan_members(i, config, rules, allowance)  # noqa: E731
            return scan_pinned(item, analyse, rules, store)
    except MemoryError:
        return [out_of_memory(item.ref, item.size, config.limits, rules)]


def _scan_members(
    item: WalkItem, config: ScanConfig, rules: RuleSet, allowance: Allowance | None = None
) -> list[ArtifactResult]:
    """Depth first; one WorkBudget counts the whole file's work. Once it is spent, nothing more
    of the file is analysed and the limit is reported once (a `<remaining members>` marker).
    The bytes decompressed are recorded on the file (WorkDone) for the target and scan budgets."""
    results: list[ArtifactResult] = []
    pending = [_Task(item.ref, item.source, item.size, item.facts, preset=item.format)]
    budget = WorkBudget(config.limits, item.size, allowance=allowance)
    while pending and budget.spent is None:
        task = pending.pop()
        try:
            budget.artifact()
        except SourceLimit:
            break
        result, children = _scan_one(task, config, rules, budget)
        results.append(result)
        pending.extend(reversed(children))
    if budget.spent is not None:
        results.append(_capped(item.ref, budget.spent, rules))
    if budget.inflated and results:
        work = WorkDone(budget.inflated)
        results[0] = dataclasses.replace(results[0], facts=(*results[0].facts, work))
    return results


def _scan_parallel(
    items: list[WalkItem], config: ScanConfig, rules: RuleSet, store: ResultCache | None
) -> list[list[ArtifactResult]]:
    """Files spread over `mlsbom._worker` processes (JSON over pipes, never pickle); a file
    whose worker fails is scanned here instead, so the output matches a single process."""
    import contextlib
    import json
    import queue
    import subprocess
    import sys
    import threading

    from mlsbom._worker import config_to_json, item_to_json
    from mlsbom.lifetime import track_popen, untrack
    from mlsbom.serial import SerialError, load_results

    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for n in range(len(items)):
        todo.put(n)
    done: dict[int, list[ArtifactResult]] = {}
    header = json.dumps(config_to_json(dataclasses.replace(config, cache=bool(store)))) + "\n"

    def work() -> None:
        try:
            proc = subprocess.Popen(  # noqa: S603 - our own worker; it ends with us (lifetime.py)
                [sys.executable, "-m", "mlsbom._worker", str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,  # Ctrl-C reaches us, and we stop it
            )
        except (OSError, MemoryError):  # no worker (fork refused under the cap): left below
            return
        assert proc.stdin is not None and proc.stdout is not None
        track_popen(proc)
        try:
            proc.stdin.write(header)
            while True:
                try:
                    n = todo.get_nowait()
                except queue.Empty:
                    break
                try:
                    proc.stdin.write(json.dumps(item_to_json(items[n])) + "\n")
                    proc.stdin.flush()
                    done[n] = load_results(json.loads(proc.stdout.readline()))
                except (OSError, ValueError, SerialError, MemoryError):
                    done[n] = _scan_file(items[n], config, rules, store)  # MemoryError: a finding
                _advance(config, items[n])
        finally:
            with contextlib.suppress(OSError):  # a worker killed at its cap: nothing to flush
                proc.stdin.close()
            proc.wait()
            untrack(proc.pid)

    threads = [threading.Thread(target=work) for _ in range(min(config.jobs, len(items)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in range(len(items)):  # files no worker answered for are scanned here
        if n not in done:
            done[n] = _scan_file(items[n], config, rules, store)
    return [done[n] for n in range(len(items))]


def _with_digests(
    results: list[ArtifactResult],
    files: dict[ArtifactRef, Path],
    digests: Mapping[Path, str | OSError],
    rules: RuleSet,
) -> list[ArtifactResult]:
    """Each file's digest; a file that changed while hashed gets none, and a finding."""
    out = []
    for r in results:
        digest = digests.get(files[r.ref]) if r.ref in files else None
        if isinstance(digest, ChangedWhileRead):
            r = changed_while_hashed(r, digest, rules)
        out.append(dataclasses.replace(r, sha256=digest) if isinstance(digest, str) else r)
    return out


def _capped(ref: ArtifactRef, fact: LimitExceeded, rules: RuleSet) -> ArtifactResult:
    """A marker artefact saying the rest of this file's members were not analysed."""
    marker = ref.child("<remaining members>")
    return ArtifactResult(marker, Format.UNKNOWN, None, (fact,), tuple(rules.judge([fact], marker)))


def _extension_fact(name: str, fmt: Format, rules: RuleSet) -> ExtensionMismatch | None:
    ext = os.path.splitext(name)[1].lower()
    hint = rules.extensions.get(ext)
    if hint is None or fmt.value in hint.expect:
        return None
    expected_code = any(Format(e).runs_code_on_load for e in hint.expect)
    return ExtensionMismatch(ext, hint.expect, fmt.value, fmt.runs_code_on_load, expected_code)


def _read_head(source: Source, n: int) -> bytes:
    with source.open() as f:
        return f.read(n)


def _scan_one(
    task: _Task, config: ScanConfig, rules: RuleSet, budget: WorkBudget
) -> tuple[ArtifactResult, list[_Task]]:
    limits = config.limits
    facts: list[Fact] = list(task.facts)
    fmt = task.preset or Format.UNKNOWN
    children: list[Child] = []
    size = task.size
    if task.source is not None:
        try:
            head = _read_head(task.source, limits.head_bytes)
        except SourceLimit as exc:
            head = None
            facts.append(LimitExceeded(exc.limit, exc.maximum))
        except (SourceError, OSError, EOFError) as exc:
            head = None
            facts.append(Unreadable(str(exc)))
        except Exception as exc:  # the per-artefact boundary covers opening a member too
            head = None
            facts.append(InternalError(f"{type(exc).__name__}: {exc}"))
        if head is not None:
            if size is None and len(head) < limits.head_bytes:
                size = len(head)
            fmt, analysis_facts, children = _analyse(task, head, size, config, rules, budget)
            facts.extend(analysis_facts)
    facts.insert(
        0,
        FormatDetected(
            fmt.value,
            fmt.runs_code_on_load,
            task.parent_runs_code,
            forced=bool(task.force or task.unknown_as) and fmt in (task.force, task.unknown_as),
        ),
    )
    child_tasks = _child_tasks(task, fmt, children, facts, config)
    findings = rules.judge(facts, task.ref)
    findings.sort(key=lambda f: f.sort_key())
    result = ArtifactResult(task.ref, fmt, size, tuple(facts), tuple(findings))
    if config.explain and fmt.runs_code_on_load and task.source is not None:
        from mlsbom.explain import explain_pickle

        result = explain_pickle(result, task.source, limits)
    return result, child_tasks


def _analyse(
    task: _Task,
    head: bytes,
    size: int | None,
    config: ScanConfig,
    rules: RuleSet,
    budget: WorkBudget,
) -> tuple[Format, list[Fact], list[Child]]:
    name = task.name_hint or task.ref.name
    forced = task.force
    fmt = forced or detect(head, Hint(name, size))
    if fmt is Format.UNKNOWN:
        ext = os.path.splitext(name)[1].lower()
        hint = rules.extensions.get(ext)
        fallback = task.unknown_as or (
            Format(hint.unknown_as) if hint and hint.unknown_as else None
        )
        if fallback is not None:
            fmt = forced = fallback
    final, facts, children = _run_analyzer(task, fmt, head, size, config, budget)
    if task.source is not None and (extra := appended_zip(final, task.source, size)):
        children = [*children, extra]
    # judged on the final format: containers are classified by their members (a .keras zip)
    mismatch = None if forced else _extension_fact(name, final, rules)
    return final, [mismatch, *facts] if mismatch else facts, children


def _run_analyzer(
    task: _Task,
    fmt: Format,
    head: bytes,
    size: int | None,
    config: ScanConfig,
    budget: WorkBudget,
) -> tuple[Format, list[Fact], list[Child]]:
    """The format's analyser, inside the per-artefact boundary (limits, errors: facts)."""
    limits = config.limits
    if size is not None and size > limits.max_file_bytes:
        return fmt, [LimitExceeded("file-bytes", limits.max_file_bytes, size)], []
    deadline = time.monotonic() + limits.max_seconds  # last resort; budgets are counted
    job = Job(task.ref, task.source, fmt, head, size, limits, deadline, budget)  # type: ignore[arg-type]
    try:
        analysis = BY_FORMAT[fmt].analyze(job)
    except SourceLimit as exc:
        return fmt, [LimitExceeded(exc.limit, exc.maximum)], []
    except (SourceError, OSError, EOFError) as exc:
        return fmt, [Unreadable(f"{type(exc).__name__}: {exc}")], []
    except RecursionError:
        return fmt, [LimitExceeded("recursion", sys.getrecursionlimit())], []
    except MemoryError:
        return fmt, [LimitExceeded("memory", limits.max_address_space)], []
    except Exception as exc:  # the per-artefact boundary: fail closed, keep scanning
        return fmt, [InternalError(f"{type(exc).__name__}: {exc}")], []
    facts = [wall_clock(f, limits.max_seconds) for f in analysis.facts]
    return analysis.format or fmt, facts, analysis.children


def _child_tasks(
    task: _Task, fmt: Format, children: list[Child], facts: list[Fact], config: ScanConfig
) -> list[_Task]:
    limits = config.limits
    if not children:
        return []
    if task.ref.depth + 1 > limits.max_depth:
        facts.append(LimitExceeded("container-depth", limits.max_depth, task.ref.depth + 1))
        return []
    if len(children) > limits.max_members:
        facts.append(LimitExceeded("container-members", limits.max_members, len(children)))
        children = children[: limits.max_members]
    tasks = []
    total = 0
    runs_code = fmt.runs_code_on_load
    for child in children:
        ref = task.ref.child(child.member)
        declared = child.declared_size
        child_facts: tuple[Fact, ...] = ()
        source: Source | None = child.source
        total += declared or 0
        if declared is not None and declared > limits.max_member_bytes:
            child_facts = (LimitExceeded("member-bytes", limits.max_member_bytes, declared),)
            source = None
        elif total > limits.max_total_member_bytes:
            child_facts = (LimitExceeded("container-bytes", limits.max_total_member_bytes, total),)
            source = None
        elif (
            declared
            and child.compressed_size
            and declared > (16 << 20)
            and declared > child.compressed_size * limits.max_ratio
        ):
            child_facts = (LimitExceeded("compression-ratio", limits.max_ratio, declared),)
            source = None
        tasks.append(
            _Task(
                ref,
                source,
                declared,
                child_facts,
                child.name_hint,
                child.unknown_as,
                child.force,
                runs_code,
            )
        )
    return tasks
