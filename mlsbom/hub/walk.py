"""Walk a hub repository: one artefact per listed file, read remotely, plus the repository."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from mlsbom.facts import Fact, HubFile, HubRepository
from mlsbom.hub.remote import Listing, list_repo
from mlsbom.hub.source import HubSource
from mlsbom.hub.target import parse
from mlsbom.models import ArtifactRef, ArtifactResult, Format


def walk_hub(
    target: str,
) -> Iterator[tuple[ArtifactRef, HubSource | None, int | None, Format | None]]:
    """(ref, source, size, preset format) for the repository and each of its files."""
    listing = list_repo(parse(target))
    base = target.rstrip("/")
    yield ArtifactRef(base, target=target), None, None, Format.REPOSITORY
    for f in sorted(listing.files, key=lambda f: f.path):
        size = f.size if f.size is not None else 0
        ref = ArtifactRef(f"{base}/{f.path}", target=target)
        yield ref, HubSource(listing, f.path, size), size, None


def summarise(
    target: str, results: list[ArtifactResult], sources: Sequence[HubSource]
) -> list[ArtifactResult]:
    """Add what was read (per file and for the repository) once the target is scanned."""
    if not sources:
        return results
    listing: Listing = sources[0].listing
    base = target.rstrip("/")
    by_ref = {ArtifactRef(f"{base}/{s.path}", target=target): s for s in sources}
    claimed = {f.path: f.lfs_sha256 for f in listing.files}
    total = sum(s.size for s in sources)
    read = sum(s.bytes_read for s in sources)
    repo_fact = HubRepository(
        listing.target.repo_id, listing.target.repo_type, listing.commit, listing.endpoint,
        listing.author, listing.license, listing.gated, listing.security, len(sources), total, read,
    )  # fmt: skip
    out = []
    for r in results:
        src = by_ref.get(r.ref)
        if src is not None:
            fact: Fact = HubFile(src.path, src.size, claimed.get(src.path), src.bytes_read)
            r = dataclasses.replace(r, facts=(*r.facts, fact))
        elif r.ref == ArtifactRef(base, target=target):
            r = dataclasses.replace(r, facts=(*r.facts, repo_fact))
        out.append(r)
    return out


@dataclass(frozen=True, slots=True)
class HubTotals:
    """What a scan read from the hub: repositories, bytes fetched, bytes the repositories hold."""

    repositories: int = 0
    bytes_read: int = 0
    total_bytes: int = 0


def hub_totals(artifacts: Iterable[ArtifactResult]) -> HubTotals:
    """Summed over the repositories' `hub-repository` facts (per target: pass its artefacts)."""
    repos = [f for a in artifacts for f in a.facts if isinstance(f, HubRepository)]
    return HubTotals(
        len(repos), sum(r.bytes_read for r in repos), sum(r.total_bytes for r in repos)
    )
