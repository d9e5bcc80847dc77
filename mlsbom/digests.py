"""File digests as a service the scan receives: started with the files as walked, asked once.

The scan starts a `Digests` with every file it walked (and the identity it saw each with) and
asks for the results once its analysis is done; the SBOM and signature verification reuse them
instead of reading the files again. A digest is only ever of the file as walked, whole: a file
that changed meanwhile maps to a `ChangedWhileRead` (a `file-changed` finding), never a digest.

`InProcessDigests` is the plain service: each file read once, in this process, when the
results are asked. The fast one (a hashing child process beside the scan, started before the
rules load, adopting files the command line named) is `speed.child_digests.ChildDigests`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from mlsbom.file_identity import (
    CHANGED_SINCE_WALK,
    CHANGED_WHILE_HASHED,
    ChangedWhileRead,
    Identity,
    identity_of,
)
from mlsbom.regular_file import regular_fd

CHUNK = 1 << 20  # reads that stay in a core's L2 cache while they are hashed
Digest = str | OSError  # hex SHA-256, or why there is none (ChangedWhileRead: it changed)


class Digests(Protocol):
    """SHA-256 of files: `start` once with the files, `results` when they are needed."""

    def start(self, files: Mapping[Path, Identity | None]) -> None:
        """Begin with these files; each maps to the identity the walk saw (None: not known)."""

    def results(self) -> Mapping[Path, Digest]:
        """Every started file's digest, or the OSError that kept it from one."""


def sha256_file(path: Path, chunk: int = CHUNK, expected: Identity | None = None) -> str:
    """Hex SHA-256 of a file, streamed through one reused buffer; ChangedWhileRead if its size,
    times or inode changed meanwhile (those bytes never existed as a whole) or it is not the
    `expected` file (the one the walk saw and the analysis read)."""
    h = hashlib.sha256()
    buf = bytearray(chunk)
    view = memoryview(buf)
    total = 0
    with open(regular_fd(path), "rb", buffering=0) as f:
        before = os.fstat(f.fileno())
        while n := f.readinto(buf):
            h.update(view[:n])
            total += n
        after = os.fstat(f.fileno())
    if identity_of(before) != identity_of(after) or total != before.st_size:
        raise ChangedWhileRead(0, CHANGED_WHILE_HASHED)
    if expected is not None and identity_of(before) != expected:
        raise ChangedWhileRead(0, CHANGED_SINCE_WALK)
    return h.hexdigest()


class InProcessDigests:
    """The plain service: every file hashed here, one after another, when results are asked."""

    def __init__(self) -> None:
        self._files: dict[Path, Identity | None] = {}
        self._done: dict[Path, Digest] | None = None

    def start(self, files: Mapping[Path, Identity | None]) -> None:
        self._files = dict(files)
        self._done = None

    def results(self) -> Mapping[Path, Digest]:
        if self._done is None:
            self._done = {}
            for path in sorted(self._files):
                try:
                    self._done[path] = sha256_file(path, expected=self._files[path])
                except OSError as exc:
                    self._done[path] = exc
        return self._done


def hash_files(paths: Iterable[Path], service: Digests | None = None) -> Mapping[Path, Digest]:
    """Digest every file (with `service`, default the plain one); unreadable files map to their
    OSError."""
    service = service or InProcessDigests()
    service.start(dict.fromkeys(paths))
    return service.results()
