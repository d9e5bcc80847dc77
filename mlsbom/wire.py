"""Work and results as JSON, for executors whose workers live in other processes or machines.

A task is a header (configuration) and one walked file; the answer is the dumped results of that
file and its members. JSON, never pickle: nothing that crosses a pipe or a network can run code
when it is read. `analyse_json` is the public per-file entry point workers call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlsbom.analyse import analyse_file
from mlsbom.budget import Allowance, out_of_memory
from mlsbom.config import Limits, ScanConfig
from mlsbom.models import ArtifactRef, ArtifactResult, Format
from mlsbom.result_cache import ResultCache, open_cache
from mlsbom.rules import RuleSet, load_rules
from mlsbom.serial import _load_as, dump, load_fact, load_results
from mlsbom.sources import FileSource
from mlsbom.walk import WalkItem


def portable(item: WalkItem) -> bool:
    """Whether another process can open the item's file by itself (a local file, or none)."""
    return item.source is None or isinstance(item.source, FileSource)


def item_to_json(item: WalkItem, allowance: Allowance | None = None) -> dict[str, Any]:
    source = item.source
    assert source is None or isinstance(source, FileSource)
    return {
        "ref": dump(item.ref),
        "path": str(source.path) if source is not None else None,
        "size": item.size,
        "facts": dump(item.facts),
        "format": item.format.value if item.format else None,
        "identity": list(item.identity) if item.identity else None,
        "allowance": dump(allowance) if allowance is not None else None,
    }


def item_from_json(doc: dict[str, Any]) -> tuple[WalkItem, Allowance | None]:
    ref = _load_as(ArtifactRef, doc["ref"])
    path = doc["path"]
    source = FileSource(Path(path), doc["size"]) if isinstance(path, str) else None
    facts = tuple(load_fact(f) for f in doc["facts"])
    fmt = Format(doc["format"]) if doc["format"] else None
    ident = doc.get("identity")
    identity = _load_as(tuple[int, int, int, int, int], ident) if ident else None
    left = doc.get("allowance")
    allowance = _load_as(Allowance, left) if left is not None else None
    return WalkItem(ref, source, doc["size"], facts, fmt, identity), allowance


def config_to_json(config: ScanConfig, cache: bool) -> dict[str, Any]:
    return {"limits": dump(config.limits), "explain": config.explain, "cache": cache}


def config_from_json(doc: dict[str, Any]) -> ScanConfig:
    limits = _load_as(Limits, doc["limits"])
    return ScanConfig(limits=limits, explain=bool(doc["explain"]), cache=bool(doc.get("cache")))


class Worker:
    """A worker's side: the header read once, then one answer per file."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.config = config_from_json(header)
        self.rules: RuleSet = load_rules()
        self.store: ResultCache | None = open_cache(self.config) if self.config.cache else None

    def answer(self, doc: dict[str, Any]) -> str:
        """The dumped results of one file; running out of address space while scanning it or
        encoding the answer is a `memory` limit on that file (never a crash the parent must
        guess about)."""
        item, allowance = item_from_json(doc)
        store = None if allowance is not None else self.store
        try:
            return json.dumps(dump(analyse_file(item, self.config, self.rules, store, allowance)))
        except MemoryError:
            limits = self.config.limits
            return json.dumps(dump([out_of_memory(item.ref, item.size, limits)]))


def analyse_json(header: str, item: str) -> str:
    """The per-file task over JSON text: what a distributed worker runs."""
    return Worker(json.loads(header)).answer(json.loads(item))


def results_from_json(text: str) -> list[ArtifactResult]:
    """A worker's answer read back (SerialError or ValueError when it is not one)."""
    return load_results(json.loads(text))
