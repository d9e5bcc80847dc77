"""File digests: each file streamed once, by a child process beside the scan.

The scan's main thread is busy with Python (imports, rules, analysis) while files are hashed.
Hash threads in the same process wait for the GIL after every read and every hash update, and
behind a busy main thread each wait lasts up to the 5 ms switch interval: a 500 MB file hashed
in 0.5-1.1 s instead of 0.4 s. A child process (hash_child.py: `python -I -S`, stdlib only,
about 15 ms to start) hashes at full speed on another core and costs the scan nothing. Where the
child cannot start or does not answer for a file, that file is hashed here, in threads. The SBOM
and signature verification reuse these digests instead of reading the files again.

Files named on the command line may already be hashing (`hash_child.prefetch`); a `Hasher`
adopts those digests for files whose identity (device, inode, size, modification time) has not
changed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from mlsbom.hash_child import (
    CHUNK,
    PREFETCHED,
    ChangedWhileRead,
    Child,
    Identity,
    default_workers,
    identity,
    spawn,
)
from mlsbom.regular_file import regular_fd

THREAD_CHUNK = 8 << 20  # fewer GIL round trips where threads of this process hash


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
    if _ident(before) != _ident(after) or total != before.st_size:
        raise ChangedWhileRead(0, "it changed while it was hashed")
    if expected is not None and _ident(before) != expected:
        raise ChangedWhileRead(0, CHANGED_SINCE_WALK)
    return h.hexdigest()


CHANGED_SINCE_WALK = "it changed between the walk and its hashing"


def _ident(st: os.stat_result) -> Identity:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Hasher:
    """Start hashing files in the background; collect the digests when they are needed."""

    def __init__(
        self,
        paths: Iterable[Path],
        workers: int | None = None,
        expected: Mapping[Path, Identity] | None = None,
    ) -> None:
        """`expected`: the identity each file had when walked; a digest of anything else (a file
        replaced or rewritten since) is a ChangedWhileRead, never a digest."""
        self._paths = sorted(set(paths))
        self._workers = workers or default_workers()
        self._expected = dict(expected or {})
        self._early = {  # already hashing since start-up (hash_child.prefetch)
            p: ident
            for p in (self._paths if PREFETCHED else ())
            if (ident := self._expected.get(p) or identity(p))
            and any(ident in e.identities for e in PREFETCHED)
        }
        self._todo = [p for p in self._paths if p not in self._early]
        self._child: Child | None = spawn(self._todo, self._workers)
        self._done: dict[Path, str | OSError] | None = None

    def results(self) -> Mapping[Path, str | OSError]:
        """Wait for every digest; a file that could not be read maps to its OSError."""
        if self._done is None:
            out: dict[Path, str | OSError] = {}
            if self._child is not None:
                answers = enumerate(zip(self._todo, self._child.answers(), strict=True))
                for n, (path, got) in answers:
                    want = self._expected.get(path)
                    if isinstance(got, str) and want and self._child.identity(n) != want:
                        got = ChangedWhileRead(0, CHANGED_SINCE_WALK)
                    if got is not None:
                        out[path] = got
            for path, ident in self._early.items():
                got = next((a for e in PREFETCHED if (a := e.answer(ident)) is not None), None)
                if got is not None:
                    out[path] = got
            missing = [p for p in self._paths if p not in out]
            if missing:
                out.update(_hash_in_threads(missing, self._workers, self._expected))
            self._done = {p: out[p] for p in self._paths}
        return self._done


def _hash_in_threads(
    paths: list[Path], workers: int, expected: Mapping[Path, Identity]
) -> dict[Path, str | OSError]:
    from concurrent.futures import Future, ThreadPoolExecutor

    out: dict[Path, str | OSError] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures: dict[Path, Future[str]] = {
            p: pool.submit(sha256_file, p, THREAD_CHUNK, expected.get(p)) for p in paths
        }
        for path, fut in futures.items():
            try:
                out[path] = fut.result()
            except OSError as exc:
                out[path] = exc
    return out


def hash_files(paths: Iterable[Path], workers: int | None = None) -> Mapping[Path, str | OSError]:
    """Digest every file (in parallel); unreadable files map to their OSError."""
    return Hasher(paths, workers).results()
