"""Orchestration: walk, detect, analyse, add facts across files; judge once; apply the policy.
Returns data; never prints.

    observe (facts only) -> policy_facts -> judge (findings) -> apply (overrides, waivers)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlsbom import cross_file
from mlsbom.analyse import analyse_file
from mlsbom.budget import Allowance, ScanBudget, work_done
from mlsbom.config import ScanConfig
from mlsbom.digests import Digests, InProcessDigests
from mlsbom.executors import Executor, FileWork, executor_for
from mlsbom.file_guard import changed_while_hashed
from mlsbom.file_identity import ChangedWhileRead
from mlsbom.hub import cache
from mlsbom.judge import judge
from mlsbom.models import ArtifactRef, ArtifactResult, ScanResult
from mlsbom.policy import Policy, apply, policy_facts
from mlsbom.prescan import Walked, start
from mlsbom.result_cache import open_cache
from mlsbom.rules import RuleSet, load_rules
from mlsbom.signing.scan_pass import attach, verify_facts
from mlsbom.signing.signers import SignerPolicy
from mlsbom.walk import WalkItem


def scan(
    targets: Sequence[str],
    config: ScanConfig,
    rules: RuleSet | None = None,
    began: Walked | None = None,
    executor: Executor | None = None,
    policy: Policy | None = None,
    today: dt.date | None = None,
    digests: Digests | None = None,
) -> ScanResult:
    """Scan every target; a missing target raises TargetError before anything is scanned.

    Every artefact's facts, judged once into findings; with a `policy`, its facts are added
    before judging and its overrides and waivers applied after (`decide` gives the verdict).
    `executor` runs the per-file analysis; by default the one `config.executor` names (local:
    `config.jobs` processes, or serial), closed again at the end. `digests` hashes the files
    when the scan needs digests (default: in this process, after the analysis); a `began` walk
    brings the digest service it started."""
    rules = rules or load_rules()
    found = observe(targets, config, rules, began, executor, digests)
    if policy is None:
        return judge(found, rules)
    return apply(judge(policy_facts(found, policy, today), rules), policy, today)


def verify(
    target: Path,
    signature: Path | None,
    signers: SignerPolicy,
    rules: RuleSet,
    digests: Digests | None = None,
) -> ScanResult:
    """A scan that only verifies: the signature pass's facts over `target` (at least one
    signature required), judged like any others; decided with `policy.VERIFY`."""
    return judge(verify_facts(target, signature, signers, digests), rules)


def observe(
    targets: Sequence[str],
    config: ScanConfig,
    rules: RuleSet,
    began: Walked | None = None,
    executor: Executor | None = None,
    digests: Digests | None = None,
) -> ScanResult:
    """Facts about every artefact of every target, no findings: analysis, then the passes
    across files, hub listings, digests, signatures and HF-cache blobs."""
    began = began or start(targets, config, digests or InProcessDigests())
    if executor is not None:
        return _observe(config, rules, began, executor)
    own = executor_for(config.executor, config.jobs)
    try:
        return _observe(config, rules, began, own)
    finally:
        own.close()


def _observe(config: ScanConfig, rules: RuleSet, began: Walked, executor: Executor) -> ScanResult:
    targets = began.targets  # each once, as walked
    walked, files = began.walked, began.files
    items = [item for _, found in walked for item in found]
    signed = began.signed or config.signatures.required or bool(config.signatures.attestations)
    cached = began.hf_caches
    hashing = began.hash_now() if began.needs_digests(config) else None  # policy may require
    results: list[ArtifactResult] = []
    store = open_cache(config, rules) if config.cache else None  # one fingerprint for all targets
    if config.progress is not None:
        config.progress.start(len(items), sum(i.size or 0 for i in items))
    spend = ScanBudget(config.limits)
    work = FileWork(config, rules, store)
    for target, found in walked:
        scanned = cross_file.check(_scan_items(found, work, executor, spend))
        if target.startswith("hf://"):
            from mlsbom.hub.source import HubSource
            from mlsbom.hub.walk import summarise

            remote = [i.source for i in found if isinstance(i.source, HubSource)]
            scanned = summarise(target, scanned, remote)
        results.extend(scanned)
    if hashing is not None:
        hashed = hashing.results()
        results = _with_digests(results, files, hashed)
        if signed:
            results = attach(targets, results, files, hashed, config.signatures)
        for target in cached:  # blobs re-hashed and compared with their names
            results = cache.attach(target, results, files, hashed)
    if config.progress is not None:
        config.progress.finish()
    results.sort(key=lambda a: a.ref)
    return ScanResult(tuple(targets), tuple(results))


def _scan_items(
    items: list[WalkItem], work: FileWork, executor: Executor, spend: ScanBudget
) -> list[ArtifactResult]:
    """Every artefact of one target's files, members included, analysed by `executor` in any
    order. The target's and the scan's decompression budgets are charged in walk order: a file
    whose recorded work no longer fits what is left is analysed again with exactly that, so
    every executor gives the verdicts of a serial scan."""
    spend.begin_target()
    config = work.config
    handed: dict[int, Allowance | None] = {}

    def allowance(n: int) -> Allowance | None:
        handed[n] = left = _allowance_for(items[n], config, spend)
        return left

    done: dict[int, list[ArtifactResult]] = {}
    scanned: list[ArtifactResult] = []
    charged = 0
    for n, results in executor.run(work, items, allowance):
        done[n] = results
        _advance(config, items[n])
        while charged in done:  # charge in walk order as soon as the next file is in
            given = handed.get(charged)
            scanned.extend(_charge(items[charged], done.pop(charged), given, work, spend))
            charged += 1
    if charged != len(items):  # an executor that dropped a file breaks its contract
        raise RuntimeError(f"executor {executor.name} answered {charged} of {len(items)} files")
    return scanned


def _charge(
    item: WalkItem,
    results: list[ArtifactResult],
    given: Allowance | None,
    work: FileWork,
    spend: ScanBudget,
) -> list[ArtifactResult]:
    """Charge one file's recorded work; analysed with less than it had when it no longer fits
    (never when it was analysed with exactly what is left, as serially)."""
    left = _allowance_for(item, work.config, spend)
    if left is not None and left != given and work_done(results) > left.bytes:
        results = analyse_file(item, work.config, work.rules, None, left)  # as serially
    spend.charge(results)
    return results


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


def _with_digests(
    results: list[ArtifactResult],
    files: dict[ArtifactRef, Path],
    digests: Mapping[Path, str | OSError],
) -> list[ArtifactResult]:
    """Each file's digest; a file that changed while hashed gets none, and a `file-changed`."""
    out = []
    for r in results:
        digest = digests.get(files[r.ref]) if r.ref in files else None
        if isinstance(digest, ChangedWhileRead):
            r = changed_while_hashed(r, digest)
        out.append(dataclasses.replace(r, sha256=digest) if isinstance(digest, str) else r)
    return out
