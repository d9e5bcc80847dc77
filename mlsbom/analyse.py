"""The analysis of one walked file and its members: the unit of work every executor runs.

`analyse_file` is public: the serial executor calls it in the scanning process, worker
processes and distributed workers call it on their side (through `mlsbom.wire`).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass

from mlsbom.analyzers import BY_FORMAT, REGISTRY
from mlsbom.analyzers.archives import appended_zip
from mlsbom.analyzers.base import Child, Hint, Job
from mlsbom.analyzers.quiet import quiet_parsing
from mlsbom.budget import Allowance, WorkBudget, out_of_memory, wall_clock
from mlsbom.config import ScanConfig
from mlsbom.detect import detect
from mlsbom.facts import (
    ExtensionMismatch,
    Fact,
    FormatDetected,
    InternalError,
    LimitExceeded,
    Unreadable,
    WorkDone,
)
from mlsbom.file_guard import scan_pinned
from mlsbom.models import ArtifactRef, ArtifactResult, Format
from mlsbom.result_cache import ResultCache
from mlsbom.rules import RuleSet
from mlsbom.sources import Source, SourceError, SourceLimit
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


def analyse_file(
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
            return scan_pinned(item, analyse, store)
    except MemoryError:
        return [out_of_memory(item.ref, item.size, config.limits)]


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
        results.append(_capped(item.ref, budget.spent))
    if budget.inflated and results:
        work = WorkDone(budget.inflated)
        results[0] = dataclasses.replace(results[0], facts=(*results[0].facts, work))
    return results


def _capped(ref: ArtifactRef, fact: LimitExceeded) -> ArtifactResult:
    """A marker artefact saying the rest of this file's members were not analysed."""
    return ArtifactResult(ref.child("<remaining members>"), Format.UNKNOWN, None, (fact,), ())


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
    result = ArtifactResult(task.ref, fmt, size, tuple(facts), ())  # judged later (judge.py)
    if config.explain and fmt.runs_code_on_load and task.source is not None:
        from mlsbom.explain import explain_pickle

        result = explain_pickle(result, task.source, limits, rules.worst(facts))
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
    final, facts, children = _run_analyzer(task, fmt, head, size, config, rules, budget)
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
    rules: RuleSet,
    budget: WorkBudget,
) -> tuple[Format, list[Fact], list[Child]]:
    """The format's analyser, inside the per-artefact boundary (limits, errors: facts)."""
    limits = config.limits
    if size is not None and size > limits.max_file_bytes:
        return fmt, [LimitExceeded("file-bytes", limits.max_file_bytes, size)], []
    deadline = time.monotonic() + limits.max_seconds  # last resort; budgets are counted
    source = task.source  # _analyse runs only for tasks with a source
    assert source is not None
    job = Job(task.ref, source, fmt, head, size, limits, deadline, rules.lists, REGISTRY, budget)
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
