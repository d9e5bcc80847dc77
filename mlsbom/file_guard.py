"""The boundary around one walked file: pinned reads, change detection, the result cache.

Every local file is analysed through a `Pinned` descriptor (pinned.py): one version of its bytes
for the whole analysis. A file whose bytes, size, times or inode moved between the walk and the
end of its analysis gets a `file-changed` fact (and is never cached); with `--cache`, results
are looked up and stored under the digest of the very bytes analysed (result_cache.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from mlsbom.facts import Fact, FileChanged
from mlsbom.models import ArtifactResult
from mlsbom.pinned import FileChangedError, Pinned, PinnedSource
from mlsbom.result_cache import ResultCache
from mlsbom.sources import FileSource
from mlsbom.walk import WalkItem

Scan = Callable[[WalkItem], list[ArtifactResult]]


def scan_pinned(
    item: WalkItem, scan: Scan, store: ResultCache | None = None
) -> list[ArtifactResult]:
    """`scan(item)` with the item's file pinned, checked for changes and, if asked, cached."""
    source = item.source
    if type(source) is not FileSource:
        return scan(item)  # members, hub files, pseudo artefacts: nothing to pin
    try:
        pinned = Pinned(source.path)
    except OSError:
        return scan(item)  # vanished or swapped for a special file: the scan reports it
    with pinned:
        if item.identity is not None and pinned.identity != item.identity:
            pinned.changed = "it is not the file the walk saw"
        pinned_item = dataclasses.replace(
            item, source=PinnedSource(source.path, pinned.size, pinned=pinned)
        )
        key = None
        if store is not None and pinned.changed is None and store.wants(pinned.size):
            try:
                key = pinned.digest()
            except FileChangedError:
                key = None
            hit = store.get(key, item.ref) if key and pinned.check() is None else None
            if hit is not None:
                return hit
        results = scan(pinned_item)
        reason = pinned.check()
        if reason is not None:
            return with_fact(results, FileChanged(reason))
        if key is not None and store is not None:
            store.put(key, item.ref, results)
        return results


def with_fact(results: list[ArtifactResult], fact: Fact) -> list[ArtifactResult]:
    """The results with one more fact on the file's own result."""
    if not results:
        return results
    return [results[0].with_facts([fact]), *results[1:]]


def changed_while_hashed(result: ArtifactResult, error: OSError) -> ArtifactResult:
    """A file whose digest was refused (file_identity.ChangedWhileRead): a `file-changed` fact,
    unless its analysis already reported one."""
    if any(isinstance(f, FileChanged) for f in result.facts):
        return result
    return with_fact([result], FileChanged(str(error.strerror or error)))[0]
