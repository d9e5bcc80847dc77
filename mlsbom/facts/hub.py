"""Facts about a Hugging Face hub repository and the local hub cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mlsbom.facts.core import Fact


@dataclass(frozen=True, slots=True)
class HubRepository(Fact):
    """A hub repository as listed: resolved commit, metadata, and how much of it was read."""

    kind: ClassVar[str] = "hub-repository"
    repo: str
    repo_type: str
    commit: str
    endpoint: str
    author: str | None
    license: str | None
    gated: str | None
    security: str | None
    files: int
    total_bytes: int
    bytes_read: int


@dataclass(frozen=True, slots=True)
class HubFile(Fact):
    """A file as the hub lists it: the LFS sha256 it claims (not verified), and bytes read."""

    kind: ClassVar[str] = "hub-file"
    path: str
    size: int
    claimed_sha256: str | None
    bytes_read: int


@dataclass(frozen=True, slots=True)
class CacheBlobMismatch(Fact):
    """A cached file whose bytes do not match the digest its blob is named after."""

    kind: ClassVar[str] = "hf-cache-blob"
    blob: str
    algorithm: str  # sha256 (LFS) | git-sha1
    actual: str
