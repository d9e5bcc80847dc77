"""The first half of a scan, kept light: walk the targets and start hashing.

The engine starts it; with speed-ups the CLI starts it earlier, before it loads rules and policy
(and before the analysers are imported), so the files hash while that set-up happens.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlsbom.config import ScanConfig
from mlsbom.digests import Digests
from mlsbom.hub import cache
from mlsbom.models import ArtifactRef
from mlsbom.signing.scan_pass import has_signatures
from mlsbom.sources import FileSource
from mlsbom.walk import WalkItem, walk


@dataclass(slots=True)
class Walked:
    """Targets walked and (when needed) hashing under way, by `digests`."""

    targets: tuple[str, ...]
    walked: list[tuple[str, list[WalkItem]]]
    files: dict[ArtifactRef, Path]
    signed: bool  # a signature the scan will verify is among the files
    hf_caches: list[str]  # targets laid out as a Hugging Face cache (blobs checked by name)
    digests: Digests
    hashing: bool = False

    def needs_digests(self, config: ScanConfig) -> bool:
        """For an SBOM, a signature to verify (present or required), or a Hugging Face cache."""
        asked = config.hash_files or config.signatures.required
        return bool(asked or self.signed or self.hf_caches)

    def hash_now(self) -> Digests:
        """Start hashing every file (once), each as walked."""
        if not self.hashing:
            walked = {
                item.source.path: item.identity
                for _, found in self.walked
                for item in found
                if isinstance(item.source, FileSource) and item.identity is not None
            }  # a digest is only taken for the file as walked (and as analysed: file_guard.py)
            self.digests.start({path: walked.get(path) for path in self.files.values()})
            self.hashing = True
        return self.digests


def start(targets: Sequence[str], config: ScanConfig, digests: Digests) -> Walked:
    """Walk every target (TargetError before anything is scanned) and start `digests` if the
    scan will need them: for an SBOM, a signature to verify, or a Hugging Face cache."""
    targets = tuple(dict.fromkeys(targets))  # a target named twice is scanned once
    walked = [(target, list(walk(target))) for target in targets]
    items = [item for _, found in walked for item in found]
    files = {i.ref: i.source.path for i in items if isinstance(i.source, FileSource)}
    signed = has_signatures(targets, files)
    caches = [t for t in targets if "://" not in t and os.path.isdir(t) and cache.layout(t)]
    began = Walked(targets, walked, files, signed, caches, digests)
    if began.needs_digests(config):
        began.hash_now()
    return began
