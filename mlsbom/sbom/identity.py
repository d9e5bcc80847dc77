"""Who a target is: name, revision and purl from an hf:// id, an HF cache path or a folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

_CACHE = re.compile(r"(?:^|/)models--([^/]+?)--([^/]+)(?:/snapshots/([0-9a-f]{7,64}))?/?$")
_HUB = re.compile(r"^hf://(?:models/)?([^/@]+)/([^/@]+)(?:@([^/]+))?/?$")


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    """The model a target holds; `repo` is an `org/name` Hugging Face id when known."""

    name: str
    repo: str | None = None
    revision: str | None = None

    @property
    def purl(self) -> str | None:
        if self.repo is None:
            return None
        org, name = self.repo.split("/", 1)
        version = f"@{self.revision}" if self.revision else ""
        return f"pkg:huggingface/{org}/{name}{version}"


def identify(target: str) -> ModelIdentity:
    """Identity from the target string alone (no I/O beyond path normalisation)."""
    hub = _HUB.match(target)
    if hub:
        org, name, rev = hub.groups()
        return ModelIdentity(f"{org}/{name}", f"{org}/{name}", rev)
    norm = os.path.abspath(target).replace(os.sep, "/")
    cache = _CACHE.search(norm)
    if cache:
        org, name, rev = cache.groups()
        return ModelIdentity(f"{org}/{name}", f"{org}/{name}", rev)
    return ModelIdentity(os.path.basename(norm.rstrip("/")) or target)


def hub_id(value: str) -> str | None:
    """`org/name` when a card value looks like a Hugging Face repo id, else None."""
    value = value.strip()
    if value.startswith("https://huggingface.co/"):
        value = value.removeprefix("https://huggingface.co/")
    if re.fullmatch(r"[\w.-]+/[\w.-]+", value) and ".." not in value:
        return value
    return None
