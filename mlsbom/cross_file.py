"""Checks across the files of one folder: shadow weights and shard indexes.

Run once after every file has been analysed; new facts are judged by the rules like any other and
attached to the artefact they concern.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts import Fact
from mlsbom.models import ArtifactRef, ArtifactResult, Format
from mlsbom.provenance import ShardIndexInfo
from mlsbom.rules import RuleSet

_PICKLE_CHECKPOINTS = {Format.PYTORCH_ZIP, Format.PYTORCH_LEGACY, Format.PICKLE}
_WEIGHTS_NAME = re.compile(r"^(pytorch_model|model|diffusion_pytorch_model|adapter_model)[-.\w]*$")
_SHARD = re.compile(r"^(.+)-\d{5}-of-\d{5}\.(safetensors|bin)$")


@dataclass(frozen=True, slots=True)
class ShadowWeights(Fact):
    """Both safetensors and a pickle checkpoint of the weights sit in the same folder."""

    kind: ClassVar[str] = "shadow-weights"
    safetensors: str
    pickle: str


@dataclass(frozen=True, slots=True)
class ShardIndexMismatch(Fact):
    """A shard index names a file that is missing, or a shard file is not in any index."""

    kind: ClassVar[str] = "shard-index-mismatch"
    index: str
    shard: str
    problem: str  # missing | unindexed


def _folder(path: str) -> str:
    return posixpath.dirname(path)


def check(results: list[ArtifactResult], rules: RuleSet) -> list[ArtifactResult]:
    """The results with cross-file facts and findings added."""
    top = [r for r in results if not r.ref.member_chain]
    by_folder: dict[str, list[ArtifactResult]] = defaultdict(list)
    for r in top:
        by_folder[_folder(r.ref.path)].append(r)
    extra: dict[ArtifactRef, list[Fact]] = defaultdict(list)
    for files in by_folder.values():
        names = {posixpath.basename(r.ref.path): r for r in files}
        weights = sorted(
            (n for n, r in names.items() if r.format is Format.SAFETENSORS),
            key=lambda n: (n != "model.safetensors", n),
        )
        pickles = sorted(
            n
            for n, r in names.items()
            if r.format in _PICKLE_CHECKPOINTS
            and n.endswith((".bin", ".pt", ".pth", ".ckpt"))
            and _WEIGHTS_NAME.match(n)
        )
        if weights and pickles:
            for name in pickles:
                extra[names[name].ref].append(ShadowWeights(weights[0], name))
        _shards(names, extra)
    if not extra:
        return results
    out = []
    for r in results:
        facts = extra.get(r.ref)
        if facts:
            findings = (*r.findings, *rules.judge(facts, r.ref))
            r = dataclasses.replace(r, facts=(*r.facts, *facts), findings=findings)
        out.append(r)
    return out


def _shards(names: dict[str, ArtifactResult], extra: dict[ArtifactRef, list[Fact]]) -> None:
    indexed: set[str] = set()
    for name, r in names.items():
        for fact in r.facts:
            if not isinstance(fact, ShardIndexInfo):
                continue
            for shard in fact.shards:
                indexed.add(shard)
                if shard not in names:
                    extra[r.ref].append(ShardIndexMismatch(name, shard, "missing"))
    if not indexed:
        return
    prefixes = {m.group(1) for s in indexed if (m := _SHARD.match(s))}
    for name, r in names.items():
        m = _SHARD.match(name)
        if m and m.group(1) in prefixes and name not in indexed:
            extra[r.ref].append(ShardIndexMismatch("index", name, "unindexed"))
