"""The fast digest service: files hashed by a child process beside the scan.

The scan's main thread is busy with Python (imports, rules, analysis) while files are hashed.
Hash threads in the same process wait for the GIL after every read and every hash update, and
behind a busy main thread each wait lasts up to the 5 ms switch interval: a 500 MB file hashed
in 0.5-1.1 s instead of 0.4 s. A child process (hash_child.py: `python -I -S`, stdlib only,
about 15 ms to start) hashes at full speed on the other cores and costs the scan nothing. Where
the child cannot start or does not answer for a file, that file is hashed here, in threads.

Files named on the command line may already be hashing (`startup.prefetch`); those digests are
adopted for files whose identity (device, inode, size, times) has not changed since.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlsbom.digests import Digest, sha256_file
from mlsbom.file_identity import CHANGED_SINCE_WALK, ChangedWhileRead, Identity, identity
from mlsbom.speed.hash_child import Child, Prefetched, default_workers, spawn

THREAD_CHUNK = 8 << 20  # fewer GIL round trips where threads of this process hash


class ChildDigests:
    """`Digests` by a hashing child started at `start`; threads here for what it leaves."""

    def __init__(
        self,
        prefetched: Prefetched | None = None,
        workers: int | None = None,
        warm: Sequence[str] = (),
    ) -> None:
        """`prefetched`: command-line files hashing since start-up; `warm`: modules to import
        while the child hashes, before waiting for it (what the command needs next)."""
        self._prefetched = prefetched
        self._workers = workers or default_workers()
        self._warm = tuple(warm)
        self._paths: list[Path] = []
        self._expected: dict[Path, Identity] = {}
        self._early: dict[Path, Identity] = {}
        self._todo: list[Path] = []
        self._child: Child | None = None
        self._done: dict[Path, Digest] | None = None

    def start(self, files: Mapping[Path, Identity | None]) -> None:
        """A digest of anything but the file as walked (replaced or rewritten since) is a
        ChangedWhileRead, never a digest."""
        self._paths = sorted(files)
        self._expected = {p: i for p, i in files.items() if i is not None}
        known = self._prefetched.identities if self._prefetched is not None else {}
        self._early = {
            p: ident
            for p in (self._paths if known else ())
            if (ident := self._expected.get(p) or identity(p)) and ident in known
        }
        self._todo = [p for p in self._paths if p not in self._early]
        self._child = spawn(self._todo, self._workers)
        self._done = None

    def results(self) -> Mapping[Path, Digest]:
        """Wait for every digest; a file that could not be read maps to its OSError."""
        if self._done is None:
            for module in self._warm:  # imports overlap the hashing still under way
                importlib.import_module(module)
            out: dict[Path, Digest] = {}
            if self._child is not None:
                answers = enumerate(zip(self._todo, self._child.answers(), strict=True))
                for n, (path, got) in answers:
                    want = self._expected.get(path)
                    if isinstance(got, str) and want and self._child.identity(n) != want:
                        got = ChangedWhileRead(0, CHANGED_SINCE_WALK)
                    if got is not None:
                        out[path] = got
            for path, ident in self._early.items():
                assert self._prefetched is not None
                got = self._prefetched.answer(ident)
                if got is not None:
                    out[path] = got
            missing = [p for p in self._paths if p not in out]
            if missing:
                out.update(_hash_in_threads(missing, self._workers, self._expected))
            self._done = {p: out[p] for p in self._paths}
        return self._done


def _hash_in_threads(
    paths: list[Path], workers: int, expected: Mapping[Path, Identity]
) -> dict[Path, Digest]:
    from concurrent.futures import Future, ThreadPoolExecutor

    out: dict[Path, Digest] = {}
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
