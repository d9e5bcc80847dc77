"""Where a SARIF result points: a relative URI against a named base, and a region.

- Local files: `uriBaseId` `SRCROOT` (the working directory, where GitHub checks out the
  repository) and the path relative to it; a target outside the working directory gets its own
  base `TARGET1`, `TARGET2`, ... (the target folder) instead of an absolute path.
- Hugging Face Hub (`hf://org/name`): `uriBaseId` `HF` (the hub endpoint) and
  `[datasets/|spaces/]org/name/blob/<commit or revision>/<file>`, the file's page on the hub.
- Regions: source findings (`line N`) point at their line; binary artefacts, archive members and
  notebook cells at line 1, with the byte offset, cell and member chain in the result properties.
URIs are the path's original bytes, percent-encoded, so undecodable names survive.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from mlsbom.facts import HubRepository
from mlsbom.models import ArtifactRef, ScanResult
from mlsbom.reporters.escape import uri_path

SRCROOT = "SRCROOT"
HF = "HF"
_LINE = re.compile(r"^line (\d+)$")
_KIND_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


def _dir_uri(path: Path) -> str:
    return path.as_uri().rstrip("/") + "/"


class Locator:
    """Relative URIs and base ids for every artefact of one scan result."""

    def __init__(self, result: ScanResult, cwd: Path | None = None) -> None:
        self.cwd = (cwd or Path.cwd()).resolve()
        self.bases: dict[str, dict[str, str]] = {}
        self._hub: dict[str, tuple[str, str]] = {}  # hf:// target -> (endpoint, repo page)
        self._targets: dict[str, tuple[str, str]] = {}  # outside target -> (base id, its folder)
        for art in result.artifacts:
            for fact in art.facts:
                if isinstance(fact, HubRepository):
                    page = f"{_KIND_PREFIX.get(fact.repo_type, '')}{fact.repo}/blob/{fact.commit}"
                    self._hub[art.ref.target] = (fact.endpoint, page)
        for target in result.targets:
            if target.startswith("hf://"):
                self._hub.setdefault(target, _hub_fallback(target))

    def artifact_location(self, ref: ArtifactRef) -> dict[str, object]:
        """`artifactLocation` with a relative `uri` and its `uriBaseId`."""
        if ref.path.startswith("hf://"):
            return self._hub_location(ref)
        absolute = Path(os.path.abspath(ref.path))
        try:
            rel = absolute.relative_to(self.cwd)
        except ValueError:
            return self._outside(absolute, ref.target)
        self.bases.setdefault(SRCROOT, {"uri": _dir_uri(self.cwd)})
        return {"uri": uri_path(rel.as_posix()), "uriBaseId": SRCROOT}

    def _outside(self, absolute: Path, target: str) -> dict[str, object]:
        """A path outside the working directory, relative to the folder of its target."""
        folder = _target_folder(target) if target else absolute.parent
        if not (absolute == folder or folder in absolute.parents):
            folder = absolute.parent
        key = str(folder)
        if key not in self._targets:
            self._targets[key] = (f"TARGET{len(self._targets) + 1}", key)
        base_id, _ = self._targets[key]
        self.bases.setdefault(base_id, {"uri": _dir_uri(folder)})
        rel = absolute.relative_to(folder).as_posix() if absolute != folder else absolute.name
        return {"uri": uri_path(rel), "uriBaseId": base_id}

    def _hub_location(self, ref: ArtifactRef) -> dict[str, object]:
        if ref.target not in self._hub:  # not from a hub target: its hf:// path, default endpoint
            self.bases.setdefault(HF, {"uri": "https://huggingface.co/"})
            return {"uri": uri_path(ref.path[len("hf://") :]), "uriBaseId": HF}
        endpoint, page = self._hub[ref.target]
        rest = ref.path[len(ref.target.rstrip("/")) :].lstrip("/")
        self.bases.setdefault(HF, {"uri": endpoint.rstrip("/") + "/"})
        uri = f"{page}/{rest}" if rest else page.rsplit("/blob/", 1)[0]
        return {"uri": uri_path(uri), "uriBaseId": HF}

    def region(self, ref: ArtifactRef, detail: str | None) -> dict[str, int]:
        """The line a source finding is on; line 1 for binary artefacts and members."""
        match = _LINE.match(detail or "")
        return {"startLine": int(match.group(1)) if match and not ref.member_chain else 1}


def _target_folder(target: str) -> Path:
    """The folder a local target's paths are relative to: itself, or a file target's folder."""
    path = Path(os.path.abspath(target))
    return path if path.is_dir() else path.parent


def _hub_fallback(target: str) -> tuple[str, str]:
    """(endpoint, page) of an hf:// target when the scan recorded no HubRepository fact."""
    from mlsbom.hub.remote import endpoint
    from mlsbom.hub.target import parse

    hub = parse(target)
    page = f"{_KIND_PREFIX.get(hub.repo_type, '')}{hub.repo_id}/blob/{hub.revision or 'main'}"
    return endpoint(), page
