"""File digests: each file streamed once in 1 MiB reads, in a child process beside the scan.

The scan's main thread is busy with Python (imports, rules, analysis) while files are hashed.
Hash threads in the same process wait for the GIL after every read and every hash update, and
behind a busy main thread each wait lasts up to the 5 ms switch interval: a 500 MB file hashed
in 0.5-1.1 s instead of 0.4 s. A child process (`python -I -S`, stdlib only, about 15 ms to
start) hashes at full speed on another core and costs the scan nothing. Where the child cannot
start or does not answer for a file, that file is hashed here, in threads. The SBOM and
signature verification reuse these digests instead of reading the files again.

`prefetch` lets the console entry start hashing the files named on the command line before the
CLI is even imported; a later `Hasher` adopts those digests for files whose identity (device,
inode, size, modification time) has not changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from mlsbom.regular_file import OPEN_FLAGS, regular_fd

CHUNK = 1 << 20  # reads that stay in a core's L2 cache while they are hashed (fastest here)
THREAD_CHUNK = 8 << 20  # fewer GIL round trips where threads of this process hash
_HASHING_COMMANDS = ("sbom",)  # commands that always hash; `scan` hashes with --sbom
_MAX_PREFETCH = 64  # command-line files hashed ahead of the CLI

# The child: NUL-separated paths on stdin; one line per path on stdout, in order:
# "ok <hex>" or "err <errno> <message>". Up to `workers` threads hash files at once, the
# largest first, so one big shard does not start last behind many small files.
_CHILD = r"""
import hashlib, os, stat, sys, threading
def one(path):
    try:
        fd = os.open(path, %(flags)d)  # O_NONBLOCK: a FIFO must not block us
        with open(fd, "rb", buffering=0) as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return "err 0 not a regular file"
            h = hashlib.sha256()
            buf = bytearray(%(chunk)d)
            view = memoryview(buf)
            while n := f.readinto(buf):
                h.update(view[:n])
        return "ok " + h.hexdigest()
    except OSError as exc:
        return "err %%d %%s" %% (exc.errno or 0, " ".join(str(exc.strerror or exc).split()))
def size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
paths = sys.stdin.buffer.read().split(b"\0")[:-1]
answers = [""] * len(paths)
order = iter(sorted(range(len(paths)), key=lambda i: -size(paths[i])))  # largest first
lock = threading.Lock()
def work():
    while True:
        with lock:
            i = next(order, None)
        if i is None:
            return
        answers[i] = one(paths[i])
threads = [threading.Thread(target=work) for _ in range(%(workers)d - 1)]
for t in threads:
    t.start()
work()
for t in threads:
    t.join()
sys.stdout.write("".join(a + "\n" for a in answers))
"""

Identity = tuple[int, int, int, int]


def sha256_file(path: Path, chunk: int = CHUNK) -> str:
    """Hex SHA-256 of a file, streamed through one reused buffer."""
    h = hashlib.sha256()
    buf = bytearray(chunk)
    view = memoryview(buf)
    with open(regular_fd(path), "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _identity(path: Path) -> Identity | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _spawn(paths: Sequence[Path], workers: int) -> subprocess.Popen[bytes] | None:
    """Start the hashing child with the paths written to it, or None if it cannot start."""
    if not sys.executable or getattr(sys, "frozen", False):  # no interpreter to start
        return None
    workers = max(1, min(workers, len(paths)))
    code = _CHILD % {"chunk": CHUNK, "workers": workers, "flags": OPEN_FLAGS}
    try:
        child = subprocess.Popen(  # noqa: S603 - our own stdlib-only code; paths go to stdin
            [sys.executable, "-I", "-S", "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, ValueError):
        return None
    assert child.stdin is not None
    try:
        with child.stdin:
            child.stdin.write(b"".join(os.fsencode(p) + b"\0" for p in paths))
    except OSError:
        child.kill()
        child.wait()
        return None
    return child


def _parse(line: str) -> str | OSError | None:
    """One answer of the child; None when it is not one the child writes."""
    kind, _, rest = line.partition(" ")
    if kind == "ok" and len(rest) == 64:
        return rest
    if kind == "err":
        number, _, message = rest.partition(" ")
        return OSError(int(number) if number.isdigit() else 0, message)
    return None


class Hasher:
    """Start hashing files in the background; collect the digests when they are needed."""

    def __init__(
        self, paths: Iterable[Path], workers: int | None = None, adopt: bool = True
    ) -> None:
        self._paths = sorted(set(paths))
        self._workers = workers or default_workers()
        self._identities = {p: i for p in self._paths if (i := _identity(p)) is not None}
        self._adopted = self._adopt() if adopt and _PREFETCHED else {}
        self._todo = [p for p in self._paths if p not in self._adopted]
        self._child = _spawn(self._todo, self._workers) if self._todo else None
        self._done: dict[Path, str | OSError] | None = None

    def _adopt(self) -> dict[Path, tuple[Hasher, Path]]:
        """Digests already under way for the same, unchanged files (see `prefetch`)."""
        known = {i: (early, p) for early in _PREFETCHED for p, i in early._identities.items()}
        return {p: known[i] for p, i in self._identities.items() if i in known}

    def results(self) -> Mapping[Path, str | OSError]:
        """Wait for every digest; a file that could not be read maps to its OSError."""
        if self._done is not None:
            return self._done
        out: dict[Path, str | OSError] = {}
        if self._child is not None:
            assert self._child.stdout is not None
            with self._child.stdout:
                answers = self._child.stdout.read()
            self._child.wait()
            lines = answers.decode("ascii", "replace").splitlines()
            for path, line in zip(self._todo, lines, strict=False):
                got = _parse(line)
                if got is not None:
                    out[path] = got
        for path, (early, as_named) in self._adopted.items():
            out[path] = early.results()[as_named]
        missing = [p for p in self._paths if p not in out]
        if missing:
            out.update(_hash_in_threads(missing, self._workers))
        self._done = {p: out[p] for p in self._paths}
        return self._done


def _hash_in_threads(paths: list[Path], workers: int) -> dict[Path, str | OSError]:
    from concurrent.futures import Future, ThreadPoolExecutor

    out: dict[Path, str | OSError] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures: dict[Path, Future[str]] = {
            p: pool.submit(sha256_file, p, THREAD_CHUNK) for p in paths
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


_PREFETCHED: list[Hasher] = []


def prefetch(argv: Sequence[str]) -> None:
    """Start hashing the regular files named on a command line that will hash them.

    For `mlsbom sbom ...` and `mlsbom scan ... --sbom F`, before the CLI is imported (about
    0.1 s of a single-file scan). Every argument that names a regular file counts, so an option's
    value (a policy file) may be hashed for nothing: a small cost, never a wrong digest, since a
    digest is only adopted for the same file unchanged. Folders are left to the walk.
    """
    if not argv or not (
        argv[0] in _HASHING_COMMANDS
        or (argv[0] == "scan" and any(a == "--sbom" or a.startswith("--sbom=") for a in argv))
    ):
        return
    files = [Path(a) for a in argv[1:] if not a.startswith("-") and os.path.isfile(a)]
    if not files or len(files) > _MAX_PREFETCH:
        return
    _PREFETCHED.append(Hasher(files, adopt=False))
