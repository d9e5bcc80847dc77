"""`--download`: fetch a hub repository into the normal HF cache, then scan it there.

The cache scan re-hashes every blob against the digest it is named after, so each LFS sha256 the
hub claimed is verified locally (and each git blob id for the small files).
"""

from __future__ import annotations

from mlsbom.errors import TargetError
from mlsbom.hub.cache import hub_cache_root
from mlsbom.hub.remote import _token, endpoint, list_repo
from mlsbom.hub.target import parse


def download(target: str) -> str:
    """The local snapshot folder of an hf:// target, downloaded at its resolved commit."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils.tqdm import disable_progress_bars

    listing = list_repo(parse(target))  # the same errors (exit 2) as a remote scan
    disable_progress_bars()
    try:
        return str(
            snapshot_download(
                listing.target.repo_id,
                repo_type=listing.target.repo_type,
                revision=listing.commit,
                endpoint=endpoint(),
                token=_token(),
                cache_dir=hub_cache_root(),  # read now: huggingface_hub reads it at import
            )
        )
    except Exception as exc:  # transport errors, disk errors, refused files
        raise TargetError(
            f"{target}: download failed: {type(exc).__name__}: {exc}"[:300],
            hint="retry, or scan without --download (ranged reads, nothing stored)",
        ) from None
