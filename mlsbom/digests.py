"""File digests: each file streamed once in 8 MiB reads, files hashed in parallel threads.

hashlib releases the GIL on large buffers, so threads overlap hashing with I/O and with the
analysis running in the main thread. Memory is one buffer per worker. The SBOM and signature
verification reuse these digests instead of reading the files again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

CHUNK = 8 << 20  # fewer GIL round trips per file while other threads run Python


def sha256_file(path: Path, chunk: int = CHUNK) -> str:
    """Hex SHA-256 of a file, streamed through one reused buffer."""
    h = hashlib.sha256()
    buf = bytearray(chunk)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class Hasher:
    """Start hashing files in the background; collect the digests when they are needed."""

    def __init__(self, paths: Iterable[Path], workers: int | None = None) -> None:
        unique = sorted(set(paths))
        self._pool = ThreadPoolExecutor(max_workers=workers or default_workers())
        self._futures: dict[Path, Future[str]] = {
            p: self._pool.submit(sha256_file, p) for p in unique
        }

    def results(self) -> Mapping[Path, str | OSError]:
        """Wait for every digest; a file that could not be read maps to its OSError."""
        out: dict[Path, str | OSError] = {}
        try:
            for path, fut in self._futures.items():
                try:
                    out[path] = fut.result()
                except OSError as exc:
                    out[path] = exc
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        return out


def hash_files(paths: Iterable[Path], workers: int | None = None) -> Mapping[Path, str | OSError]:
    """Digest every file (in parallel); unreadable files map to their OSError."""
    return Hasher(paths, workers).results()
