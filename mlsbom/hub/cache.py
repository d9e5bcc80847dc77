"""Local Hugging Face caches: `models--org--name` folders and their `snapshots/<commit>/`.

A snapshot's files are symlinks into the repository's `blobs/`, named after their content: the
LFS sha256 for large files, the git blob sha1 for the rest. huggingface_hub does not check the
name on download, so a tampered cache keeps serving bad bytes under a good name; the scan re-hashes
every blob and compares. Links are followed into the repository's own `blobs/` and nowhere else.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlsbom.facts import CacheBlobMismatch, Fact
from mlsbom.models import ArtifactRef, ArtifactResult
from mlsbom.regular_file import regular_fd

_REPO_DIR = re.compile(r"^(models|datasets|spaces)--[^/]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
MAX_GIT_HASHED = 64 << 20  # git blob ids are checked for files up to this size


@dataclass(frozen=True, slots=True)
class CacheLayout:
    repo_dir: Path  # models--org--name
    snapshot: Path  # snapshots/<commit>
    commit: str


def hub_cache_root() -> Path:
    """HF_HUB_CACHE, or HF_HOME/hub, or ~/.cache/huggingface/hub."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache", "huggingface"
    )
    return Path(home) / "hub"


def cached_repos(root: Path | None = None) -> list[Path]:
    """Every cached repository folder (for `--hf-cache`)."""
    base = root or hub_cache_root()
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and _REPO_DIR.match(p.name))


def layout(target: str) -> CacheLayout | None:
    """The cache layout a target folder is part of, or None for an ordinary folder."""
    path = Path(os.path.abspath(target))
    if path.parent.name == "snapshots" and _REPO_DIR.match(path.parent.parent.name):
        return CacheLayout(path.parent.parent, path, path.name)
    if _REPO_DIR.match(path.name) and (path / "snapshots").is_dir():
        ref = path / "refs" / "main"
        commit = ref.read_text().strip() if ref.is_file() else ""
        snaps = sorted((path / "snapshots").iterdir(), key=lambda p: p.stat().st_mtime)
        chosen = path / "snapshots" / commit if commit else (snaps[-1] if snaps else None)
        if chosen is not None and chosen.is_dir():
            return CacheLayout(path, chosen, chosen.name)
    return None


def snapshot_target(target: str, cache: CacheLayout) -> str:
    """The target as the snapshot folder to walk (a repository folder names its snapshot)."""
    if os.path.abspath(target) == str(cache.snapshot):
        return target
    return os.path.join(target, "snapshots", cache.commit)


def _git_blob_sha1(path: Path, size: int) -> str:
    h = hashlib.sha1(f"blob {size}\0".encode())  # noqa: S324 - git's object id, not security
    with open(regular_fd(path), "rb") as f:  # never a FIFO or a device
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def check_blob(link: Path, blobs: Path, digests: Mapping[Path, str | OSError]) -> Fact | None:
    """Compare a snapshot file's bytes with its blob's name (sha256 from `digests` when known)."""
    try:
        real = Path(os.path.realpath(link))
    except OSError:
        return None
    if real.parent != Path(os.path.realpath(blobs)):
        return None
    name = real.name
    if _SHA256.match(name):
        known = digests.get(link)
        actual = known if isinstance(known, str) else None
        if actual is None:
            from mlsbom.digests import sha256_file

            actual = sha256_file(real)
        return None if actual == name else CacheBlobMismatch(name, "sha256", actual)
    if _SHA1.match(name):
        size = real.stat().st_size
        if size > MAX_GIT_HASHED:
            return None
        actual = _git_blob_sha1(real, size)
        return None if actual == name else CacheBlobMismatch(name, "git-sha1", actual)
    return None


def attach(
    target: str,
    results: list[ArtifactResult],
    files: Mapping[ArtifactRef, Path],
    digests: Mapping[Path, str | OSError],
) -> list[ArtifactResult]:
    """Results of a cache target with a `CacheBlobMismatch` on every tampered file."""
    found = layout(target)
    if found is None:
        return results
    blobs = found.repo_dir / "blobs"
    out = []
    for art in results:
        path = files.get(art.ref) if art.ref.target == target else None
        fact = check_blob(path, blobs, digests) if path is not None else None
        out.append(art.with_facts([fact]) if fact is not None else art)
    return out
