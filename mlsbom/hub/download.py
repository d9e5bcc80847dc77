"""`--download`: fetch a hub repository into a quarantine folder, scan it there, and move it into
the Hugging Face cache only when the scan passes.

`from_pretrained` loads whatever sits in the cache, so a repository that fails the gate must never
land there. The quarantine is a sibling of the cache folder (`<cache>/../mlsbom-quarantine/`), on
the same file system so that release is a rename, and outside the folder huggingface_hub scans.
The cache scan re-hashes every blob against the digest it is named after, so each LFS sha256 the
hub claimed is verified locally (and each git blob id for the small files).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlsbom.errors import TargetError
from mlsbom.facts import HubRepository
from mlsbom.hub.cache import hub_cache_root
from mlsbom.hub.remote import Listing, _token, endpoint, list_repo
from mlsbom.hub.target import parse
from mlsbom.models import ArtifactRef, ArtifactResult, Format, ScanResult

QUARANTINE = "mlsbom-quarantine"
_COMMIT_LEN = 40


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A downloaded repository that no loader can see yet."""

    target: str  # as given: hf://org/name[@rev]
    listing: Listing
    folder: Path  # this download's own folder inside the quarantine
    snapshot: Path  # folder/<models--org--name>/snapshots/<commit>: what is scanned
    cache_root: Path  # where it moves on a pass

    @property
    def repo_dir(self) -> Path:
        return self.snapshot.parent.parent


def download(target: str) -> Quarantined:
    """Download an hf:// target at its resolved commit into a fresh quarantine folder."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils.tqdm import disable_progress_bars

    listing = list_repo(parse(target))  # the same errors (exit 2) as a remote scan
    cache_root = hub_cache_root()  # read now: huggingface_hub reads it at import
    base = cache_root.parent / QUARANTINE
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = Path(tempfile.mkdtemp(prefix="dl-", dir=base))
    disable_progress_bars()
    try:
        snapshot = snapshot_download(
            listing.target.repo_id,
            repo_type=listing.target.repo_type,
            revision=listing.commit,
            endpoint=endpoint(),
            token=_token(),
            cache_dir=folder,
        )
    except Exception as exc:  # transport errors, disk errors, refused files
        shutil.rmtree(folder, ignore_errors=True)
        raise TargetError(
            f"{target}: download failed: {type(exc).__name__}: {exc}"[:300],
            hint="retry, or scan without --download (ranged reads, nothing stored)",
        ) from None
    return Quarantined(target, listing, folder, Path(snapshot), cache_root)


def with_repository(result: ScanResult, q: Quarantined) -> ScanResult:
    """The result with the hub's record of the repository (commit, licence, gating) attached."""
    listing = q.listing
    files = [p for p in q.snapshot.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    fact = HubRepository(
        listing.target.repo_id, listing.target.repo_type, listing.commit, listing.endpoint,
        listing.author, listing.license, listing.gated, listing.security, len(files), total, total,
    )  # fmt: skip
    ref = ArtifactRef(str(q.snapshot), target=str(q.snapshot))  # the target scanned
    repo = ArtifactResult(ref, Format.REPOSITORY, None, (fact,), ())
    rest = tuple(a for a in result.artifacts if a.ref != ref)
    return dataclasses.replace(result, artifacts=(repo, *rest))


def release(q: Quarantined) -> Path:
    """Move a repository that passed into the Hugging Face cache; its snapshot folder there."""
    dest = q.cache_root / q.repo_dir.name
    for sub in ("blobs", "snapshots", "refs"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    for blob in (q.repo_dir / "blobs").iterdir():
        os.replace(blob, dest / "blobs" / blob.name)  # verified bytes replace any stale copy
    final = dest / "snapshots" / q.snapshot.name
    _merge_tree(q.snapshot, final)
    revision = q.listing.target.revision or "main"
    if not (len(revision) == _COMMIT_LEN and all(c in "0123456789abcdef" for c in revision)):
        ref = dest / "refs" / revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(q.listing.commit)
    discard(q)
    return final


def keep(q: Quarantined, where: Path) -> Path:
    """Move a failing repository to `where` for inspection (no loader looks there)."""
    where.mkdir(parents=True, exist_ok=True)
    dest = where / q.repo_dir.name
    if dest.exists():
        raise TargetError(f"--keep: {dest} already exists", hint="choose an empty folder")
    shutil.move(str(q.repo_dir), dest)
    discard(q)
    return dest / "snapshots" / q.snapshot.name


def discard(q: Quarantined) -> None:
    """Remove what is left of the quarantine folder."""
    shutil.rmtree(q.folder, ignore_errors=True)


def _merge_tree(src: Path, dest: Path) -> None:
    """Move `src`'s entries into `dest`, replacing same-named ones (relative links stay valid)."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        target = dest / entry.name
        if entry.is_dir() and not entry.is_symlink():
            _merge_tree(entry, target)
            continue
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(entry, target)


class Downloads:
    """The `--download` lifecycle around one scan: fetch into quarantine, then settle by verdict.

    Used as a context manager so that a scan that errors out leaves nothing behind.
    """

    def __init__(self, keep_dir: Path | None) -> None:
        self.keep_dir = keep_dir
        self.pending: list[Quarantined] = []

    def fetch(self, targets: tuple[str, ...]) -> tuple[str, ...]:
        """Each hf:// target replaced by its quarantined snapshot folder."""
        out = []
        for t in targets:
            if t.startswith("hf://"):
                q = download(t)
                self.pending.append(q)
                out.append(str(q.snapshot))
            else:
                out.append(t)
        return tuple(out)

    def annotate(self, result: ScanResult) -> ScanResult:
        for q in self.pending:
            result = with_repository(result, q)
        return result

    def settle(self, passed: bool) -> list[str]:
        """Release every download when the scan passed, else keep or discard; what happened."""
        notes = []
        for q in self.pending:
            if passed:
                notes.append(
                    f"{q.target}: passed; stored in the Hugging Face cache at {release(q)}"
                )
            elif self.keep_dir is not None:
                notes.append(f"{q.target}: failed; not cached, kept at {keep(q, self.keep_dir)}")
            else:
                discard(q)
                notes.append(f"{q.target}: failed; not stored in the Hugging Face cache")
        self.pending = []
        return notes

    def __enter__(self) -> Downloads:
        return self

    def __exit__(self, *exc: object) -> None:
        for q in self.pending:
            discard(q)
