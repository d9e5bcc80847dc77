"""Work and results as JSON, for executors whose workers live in other processes or machines.

A task is a header (configuration) and one walked file; the answer is the dumped results of that
file and its members. JSON, never pickle: nothing that crosses a pipe or a network can run code
when it is read. `analyse_json` is the public per-file entry point workers call.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlsbom.analyse import analyse_file
from mlsbom.budget import Allowance, out_of_memory
from mlsbom.config import Limits, ScanConfig
from mlsbom.hub.remote import Listing
from mlsbom.hub.source import HubSource
from mlsbom.hub.target import HubTarget
from mlsbom.models import ArtifactRef, ArtifactResult, Format
from mlsbom.result_cache import open_cache
from mlsbom.rules import RuleSet, load_rules, rules_dir
from mlsbom.serial import _load_as, dump, load_fact, load_results
from mlsbom.sources import FileSource, Source
from mlsbom.walk import WalkItem


def portable(item: WalkItem) -> bool:
    """Whether another process on this machine can open the item's file by itself."""
    return item.source is None or isinstance(item.source, FileSource)


def remote_ok(item: WalkItem) -> bool:
    """Whether a worker anywhere can read the item itself: a file on storage it shares, or a
    hub file it reads by range at the listed commit."""
    return portable(item) or isinstance(item.source, HubSource)


def _hub_to_json(source: HubSource) -> dict[str, Any]:
    listing = source.listing
    return {
        "repo_type": listing.target.repo_type,
        "repo_id": listing.target.repo_id,
        "revision": listing.target.revision,
        "endpoint": listing.endpoint,
        "commit": listing.commit,
        "path": source.path,
        "size": source.size,
    }


def _hub_from_json(doc: dict[str, Any]) -> HubSource:
    target = HubTarget(str(doc["repo_type"]), str(doc["repo_id"]), doc["revision"])
    listing = Listing(target, str(doc["endpoint"]), str(doc["commit"]), ())
    return HubSource(listing, str(doc["path"]), int(doc["size"]))


def item_to_json(item: WalkItem, allowance: Allowance | None = None) -> dict[str, Any]:
    source = item.source
    assert remote_ok(item)
    return {
        "ref": dump(item.ref),
        "path": str(source.path) if isinstance(source, FileSource) else None,
        "hub": _hub_to_json(source) if isinstance(source, HubSource) else None,
        "size": item.size,
        "facts": dump(item.facts),
        "format": item.format.value if item.format else None,
        "identity": list(item.identity) if item.identity else None,
        "allowance": dump(allowance) if allowance is not None else None,
    }


def item_from_json(doc: dict[str, Any]) -> tuple[WalkItem, Allowance | None]:
    ref = _load_as(ArtifactRef, doc["ref"])
    path, hub = doc["path"], doc.get("hub")
    source: Source | None = None
    if isinstance(path, str):
        source = FileSource(Path(path), doc["size"])
    elif isinstance(hub, dict):
        source = _hub_from_json(hub)
    facts = tuple(load_fact(f) for f in doc["facts"])
    fmt = Format(doc["format"]) if doc["format"] else None
    ident = doc.get("identity")
    identity = _load_as(tuple[int, int, int, int, int], ident) if ident else None
    left = doc.get("allowance")
    allowance = _load_as(Allowance, left) if left is not None else None
    return WalkItem(ref, source, doc["size"], facts, fmt, identity), allowance


def config_to_json(config: ScanConfig, rules: RuleSet, cache: bool) -> dict[str, Any]:
    """The header: the configuration, and the rules folder every worker loads (the same rules
    judge, and the same lists classify, in every process)."""
    return {
        "limits": dump(config.limits),
        "explain": config.explain,
        "cache": cache,
        "rules": None if rules.folder == rules_dir().resolve() else str(rules.folder),
    }  # None: the worker's own shipped rules (another machine installs them elsewhere)


def config_from_json(doc: dict[str, Any]) -> ScanConfig:
    limits = _load_as(Limits, doc["limits"])
    return ScanConfig(limits=limits, explain=bool(doc["explain"]), cache=bool(doc.get("cache")))


class Worker:
    """A worker's side: the header read once, then one answer per file."""

    def __init__(self, header: dict[str, Any]) -> None:
        self.config = config_from_json(header)
        folder = header.get("rules")
        self.rules: RuleSet = load_rules(Path(folder) if isinstance(folder, str) else None)
        self.store = open_cache(self.config, self.rules) if self.config.cache else None

    def answer(self, doc: dict[str, Any]) -> str:
        """The dumped results of one file and the bytes read from the hub for it; running out of
        address space while scanning it or encoding the answer is a `memory` limit on that file
        (never a crash the parent must guess about)."""
        item, allowance = item_from_json(doc)
        store = None if allowance is not None else self.store
        fetched = item.source if isinstance(item.source, HubSource) else None
        try:
            results = dump(analyse_file(item, self.config, self.rules, store, allowance))
            read = fetched.bytes_read if fetched is not None else 0
            return json.dumps({"results": results, "bytes_read": read})
        except MemoryError:
            limits = self.config.limits
            lost = dump([out_of_memory(item.ref, item.size, limits)])
            return json.dumps({"results": lost, "bytes_read": 0})


@functools.lru_cache(maxsize=4)
def _worker_for(header: str) -> Worker:
    """One Worker per header in a long-lived process (rules load once, not per task)."""
    return Worker(json.loads(header))


def analyse_json(header: str, items: str) -> str:
    """The task a distributed worker runs: a JSON array of files in, a JSON array of their
    answers out (one file per task for large files, a few small ones together)."""
    worker = _worker_for(header)
    return "[" + ",".join(worker.answer(doc) for doc in json.loads(items)) + "]"


def answers_from_json(text: str, items: Sequence[WalkItem]) -> list[list[ArtifactResult]]:
    """The answers of one `analyse_json` task, one per item (ValueError when they do not fit)."""
    docs = json.loads(text)
    if not isinstance(docs, list) or len(docs) != len(items):
        raise ValueError("a task answers each of its files once")
    return [_answer(doc, item) for doc, item in zip(docs, items, strict=True)]


def answer_from_json(text: str, item: WalkItem) -> list[ArtifactResult]:
    """A worker's answer read back (SerialError or ValueError when it is not one); bytes the
    worker read from the hub are added to the item's own count."""
    return _answer(json.loads(text), item)


def _answer(doc: Any, item: WalkItem) -> list[ArtifactResult]:
    if not isinstance(doc, dict):
        raise ValueError("a worker answer is an object")
    results = load_results(doc.get("results"))
    read = doc.get("bytes_read", 0)
    if isinstance(item.source, HubSource) and isinstance(read, int) and read > 0:
        item.source.bytes_read += read
    return results
