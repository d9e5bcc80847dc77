"""Checks across the files of one folder: shadow weights, shard indexes, remote-code modules.

Run once after every file has been analysed; new facts are attached to the artefact they concern
and judged later with all the others (judge.py).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections import defaultdict

from mlsbom.facts import (
    Fact,
    RemoteCode,
    RemoteCodeMissing,
    ShadowWeights,
    ShardIndexInfo,
    ShardIndexMismatch,
    TensorShapes,
)
from mlsbom.loader_code import retag
from mlsbom.models import ArtifactRef, ArtifactResult, Format

_PICKLE_CHECKPOINTS = {Format.PYTORCH_ZIP, Format.PYTORCH_LEGACY, Format.PICKLE}
_WEIGHTS_NAME = re.compile(r"^(pytorch_model|model|diffusion_pytorch_model|adapter_model)[-.\w]*$")
_SHARD = re.compile(r"^(.+)-\d{5}-of-\d{5}\.(safetensors|bin)$")


def _folder(path: str) -> str:
    return posixpath.dirname(path)


def check(results: list[ArtifactResult]) -> list[ArtifactResult]:
    """The results with cross-file facts added."""
    retagged = retag([r for r in results if not r.ref.member_chain])
    if retagged:
        results = [retagged.get(r.ref, r) for r in results]
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
            st_shapes = _shapes([r for n, r in names.items() if n in weights], results)
            for name in pickles:
                pt_shapes = _shapes([names[name]], results)
                differs, detail = _compare(st_shapes, pt_shapes)
                extra[names[name].ref].append(ShadowWeights(weights[0], name, differs, detail))
        _shards(names, extra)
    paths = {r.ref.path for r in top}
    for r in top:
        _remote_modules(r, paths, extra)
    if not extra:
        return results
    return [r.with_facts(extra[r.ref]) if extra.get(r.ref) else r for r in results]


def _shapes(
    files: list[ArtifactResult], results: list[ArtifactResult]
) -> dict[str, tuple[int, ...]] | None:
    """Tensor shapes of these files and their members (None when no file reported any)."""
    paths = {f.ref.path for f in files}
    found: dict[str, tuple[int, ...]] | None = None
    for r in results:
        if r.ref.path in paths:
            for fact in r.facts:
                if isinstance(fact, TensorShapes):
                    found = found if found is not None else {}
                    found.update(fact.tensors)
    return found


def _compare(
    a: dict[str, tuple[int, ...]] | None, b: dict[str, tuple[int, ...]] | None
) -> tuple[bool, str]:
    if a is None or b is None:
        return False, "tensor names of one copy are unknown; not compared"
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    shape = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    if not (only_a or only_b or shape):
        return False, f"same {len(a)} tensor names and shapes"
    parts = []
    if only_a:
        parts.append(f"{len(only_a)} only in safetensors (e.g. {only_a[0]})")
    if only_b:
        parts.append(f"{len(only_b)} only in the pickle (e.g. {only_b[0]})")
    if shape:
        parts.append(f"{len(shape)} with other shapes (e.g. {shape[0]})")
    return True, "; ".join(parts)


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


def _remote_modules(
    r: ArtifactResult, paths: set[str], extra: dict[ArtifactRef, list[Fact]]
) -> None:
    """Modules a config makes the loader import from this repository, but which are absent."""
    folder = _folder(r.ref.path)
    seen: set[str] = set()
    for fact in r.facts:
        if not isinstance(fact, RemoteCode) or fact.other_repo or fact.module in seen:
            continue
        seen.add(fact.module)
        module = fact.module.replace(".", "/") + ".py"
        path = posixpath.join(folder, module)
        if path not in paths and not os.path.isfile(path):  # a single-file target: look beside
            extra[r.ref].append(RemoteCodeMissing(fact.file, module, fact.reference))
