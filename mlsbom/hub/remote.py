"""Talk to the hub through huggingface_hub: the repository listing and ranged file reads.

The endpoint comes from `HF_ENDPOINT` and the token from `HF_TOKEN` (or the saved login), read
when a scan starts. Listing failures are target errors (exit 2); a file that cannot be read is a
`SourceError`, so it ends as a finding on that file. Every request keeps the hub's etiquette
(etiquette.py): a concurrency cap per host, and HTTP 429 answered by waiting as asked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mlsbom.errors import TargetError
from mlsbom.hub.etiquette import RateLimited, RateLimitExhausted, polite, retry_after
from mlsbom.hub.target import HubTarget
from mlsbom.sources import SourceError


def _timeout() -> float:
    """Seconds per hub request (MLSBOM_HUB_TIMEOUT, default 30): a hang ends as a finding."""
    try:
        return max(0.1, float(os.environ.get("MLSBOM_HUB_TIMEOUT", "30")))
    except ValueError:
        return 30.0


MAX_LISTED = 100_000


@dataclass(frozen=True, slots=True)
class RemoteFile:
    path: str
    size: int | None
    blob_id: str | None
    lfs_sha256: str | None


@dataclass(frozen=True, slots=True)
class Listing:
    """What the hub says about a repository at one commit."""

    target: HubTarget
    endpoint: str
    commit: str
    files: tuple[RemoteFile, ...]
    author: str | None = None
    license: str | None = None
    gated: str | None = None
    security: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def _token() -> str | None:
    return os.environ.get("HF_TOKEN") or None


def _security(info: Any) -> str | None:
    status = getattr(info, "security_repo_status", None)
    if not isinstance(status, dict):
        return None
    scans = status.get("scansDone")
    files = status.get("filesWithIssues")
    parts = [f"scans done: {scans}" if scans is not None else ""]
    if isinstance(files, list):
        parts.append(f"{len(files)} files with issues")
    return "; ".join(p for p in parts if p) or "present"


def list_repo(target: HubTarget) -> Listing:
    """The repository's files (sizes, LFS digests) and commit, or TargetError."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    base = endpoint()
    api = HfApi(endpoint=base, token=_token())
    name = target.display()

    def ask() -> Any:
        try:
            if target.repo_type == "model":  # only models report the hub's own security scan
                return api.model_info(
                    target.repo_id,
                    revision=target.revision,
                    files_metadata=True,
                    securityStatus=True,
                    timeout=_timeout(),
                )
            return api.repo_info(
                target.repo_id,
                repo_type=target.repo_type,
                revision=target.revision,
                files_metadata=True,
                timeout=_timeout(),
            )
        except HfHubHTTPError as exc:
            if exc.response is not None and exc.response.status_code == 429:
                raise RateLimited(retry_after(exc.response.headers.get("Retry-After"))) from None
            raise

    try:
        info = polite(base, ask)
    except RateLimitExhausted as exc:
        raise TargetError(
            f"{name}: rate limited: {exc}",
            hint="lower MLSBOM_HUB_CONCURRENCY, or raise MLSBOM_HUB_RETRIES / MLSBOM_HUB_MAX_WAIT",
        ) from None
    except GatedRepoError:
        raise TargetError(
            f"{name} is gated: the hub refused access",
            hint="accept the model's terms on the hub and set HF_TOKEN (or run `hf auth login`)",
        ) from None
    except RevisionNotFoundError:
        raise TargetError(f"{name}: revision not found", hint="check the @revision") from None
    except RepositoryNotFoundError:
        raise TargetError(
            f"{name}: repository not found (or private)",
            hint="check the name; for a private repository set HF_TOKEN",
        ) from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise TargetError(
            f"{name}: the hub answered HTTP {status}", hint=f"endpoint {base}"
        ) from None
    except Exception as exc:  # httpx transport errors, timeouts, bad JSON
        raise TargetError(
            f"{name}: cannot reach the hub: {type(exc).__name__}: {exc}"[:300],
            hint=f"endpoint {base}; set HF_ENDPOINT for a mirror",
        ) from None
    siblings = list(getattr(info, "siblings", None) or [])[:MAX_LISTED]
    files = tuple(
        RemoteFile(
            s.rfilename,
            s.size,
            s.blob_id,
            s.lfs.sha256 if s.lfs is not None else None,
        )
        for s in siblings
    )
    card = getattr(info, "card_data", None)
    license_ = card.get("license") if card is not None else None
    gated = getattr(info, "gated", None)
    return Listing(
        target,
        base,
        str(getattr(info, "sha", None) or target.revision or "main"),
        files,
        author=getattr(info, "author", None),
        license=str(license_) if license_ else None,
        gated=str(gated) if gated not in (None, False) else None,
        security=_security(info),
    )


def read_range(listing: Listing, path: str, start: int, end: int) -> bytes:
    """Bytes [start, end) of a file at the listing's commit: one ranged GET."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils._headers import build_hf_headers

    url = hf_hub_url(
        listing.target.repo_id,
        path,
        repo_type=listing.target.repo_type,
        revision=listing.commit,
        endpoint=listing.endpoint,
    )
    headers = {**build_hf_headers(token=_token()), "Range": f"bytes={start}-{end - 1}"}
    want = end - start

    def ask() -> bytes:
        return _get_range(url, headers, path, start, want)

    try:
        return polite(listing.endpoint, ask)
    except RateLimitExhausted as exc:
        raise SourceError(f"{path}: rate limited: {exc}") from None


def _get_range(url: str, headers: dict[str, str], path: str, start: int, want: int) -> bytes:
    import httpx2 as httpx  # the HTTP client huggingface_hub 2.x ships with
    from huggingface_hub import get_session

    end = start + want
    try:
        with get_session().stream(
            "GET", url, headers=headers, follow_redirects=True, timeout=_timeout()
        ) as response:
            if response.status_code == 429:
                raise RateLimited(retry_after(response.headers.get("Retry-After")))
            if response.status_code == 416:
                raise SourceError(f"{path}: the hub refused bytes {start}-{end - 1} (416)")
            if response.status_code >= 400:
                raise SourceError(f"{path}: the hub answered HTTP {response.status_code}")
            skip = start if response.status_code == 200 else 0  # a server that ignores Range
            chunks, got = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                got += len(chunk)
                if got >= skip + want:
                    break
    except httpx.HTTPError as exc:
        raise SourceError(f"{path}: reading from the hub failed: {type(exc).__name__}") from None
    data = b"".join(chunks)[skip : skip + want]
    if len(data) != want:
        raise SourceError(f"{path}: the hub sent {len(data)} of {want} bytes at offset {start}")
    return data
