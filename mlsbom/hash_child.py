"""The hashing child process, and starting it for the command line before the CLI loads.

Kept to `os` and `sys` (plus the child's own source text): the console entry imports this first,
and every import here delays the first byte hashed. pathlib and subprocess alone cost 20 ms, so
on POSIX the child is started with `os.posix_spawn` (subprocess is the fallback elsewhere).

Protocol: NUL-separated paths on the child's stdin; one line per path on its stdout, in order:
`ok <hex>` or `err <errno> <message>`.
"""

from __future__ import annotations

import atexit
import os
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs 10 ms here
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

CHUNK = 1 << 20  # reads that stay in a core's L2 cache while they are hashed (fastest here)
# O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (POSIX); O_BINARY: no newline
# translation (Windows); O_CLOEXEC: not inherited by the hashing child or workers.
OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_HASHING_COMMANDS = ("sbom",)  # commands that always hash; `scan` hashes with --sbom
_MAX_PREFETCH = 64  # command-line files hashed ahead of the CLI

# Up to `workers` threads hash files at once, the largest first, so one big shard does not start
# last behind many small files.
SOURCE = r"""
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
Answer = str | OSError | None  # a digest, the child's error, or no (believable) answer


def identity(path: str | os.PathLike[str]) -> Identity | None:
    """Device, inode, size and modification time: the same file, unchanged."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class Child:
    """One hashing child with its paths written to it; `answers` waits for it once."""

    def __init__(self, read: Callable[[], bytes], count: int) -> None:
        self._read = read
        self._count = count
        self._answers: list[Answer] | None = None

    def answers(self) -> list[Answer]:
        """One answer per path, in the order given (None where the child said nothing usable)."""
        if self._answers is None:
            try:
                lines = self._read().decode("ascii", "replace").splitlines()
            except OSError:
                lines = []
            got = [_parse(line) for line in lines[: self._count]]
            self._answers = got + [None] * (self._count - len(got))
        return self._answers


def spawn(paths: Sequence[str | os.PathLike[str]], workers: int) -> Child | None:
    """Start a child hashing `paths`, or None if no child can start (hash in-process then)."""
    if not paths or not sys.executable or getattr(sys, "frozen", False):
        return None  # nothing to do, or no interpreter to start
    workers = max(1, min(workers, len(paths)))
    code = SOURCE % {"chunk": CHUNK, "workers": workers, "flags": OPEN_FLAGS}
    argv = [sys.executable, "-I", "-S", "-c", code]
    data = b"".join(os.fsencode(p) + b"\0" for p in paths)
    start = _posix_spawn if hasattr(os, "posix_spawn") else _popen
    try:
        read = start(argv, data)
    except (OSError, ValueError):
        return None
    return Child(read, len(paths))


_RUNNING: dict[int, Callable[[], None]] = {}  # children not yet waited for: pid -> stop


@atexit.register
def stop_children() -> None:
    """Stop children whose answers were never collected (an error, a usage mistake, Ctrl-C):
    a multi-gigabyte file must not go on hashing after mlsbom has exited."""
    for stop in list(_RUNNING.values()):
        stop()


def _posix_spawn(argv: list[str], data: bytes) -> Callable[[], bytes]:
    child_in, to_child = os.pipe()
    from_child, child_out = os.pipe()
    try:
        pid = os.posix_spawn(
            argv[0],
            argv,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, child_in, 0),
                (os.POSIX_SPAWN_DUP2, child_out, 1),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
        )
    except BaseException:
        for fd in (child_in, to_child, from_child, child_out):
            os.close(fd)
        raise
    os.close(child_in)
    os.close(child_out)

    def stop() -> None:
        import signal

        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:  # already gone
            pass
        _RUNNING.pop(pid, None)

    _RUNNING[pid] = stop
    try:
        with open(to_child, "wb") as f:
            f.write(data)
    except OSError:  # the child died before reading: its answers will be empty
        pass

    def read() -> bytes:
        try:
            with open(from_child, "rb") as f:
                return f.read()
        finally:
            os.waitpid(pid, 0)
            _RUNNING.pop(pid, None)

    return read


def _popen(argv: list[str], data: bytes) -> Callable[[], bytes]:
    import subprocess

    proc = subprocess.Popen(  # noqa: S603 - our own stdlib-only code; paths go to stdin
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdin is not None and proc.stdout is not None
    out = proc.stdout

    def stop() -> None:
        proc.kill()
        proc.wait()
        _RUNNING.pop(proc.pid, None)

    _RUNNING[proc.pid] = stop
    try:
        with proc.stdin:
            proc.stdin.write(data)
    except OSError:
        pass

    def read() -> bytes:
        try:
            with out:
                return out.read()
        finally:
            proc.wait()
            _RUNNING.pop(proc.pid, None)

    return read


def _parse(line: str) -> Answer:
    kind, _, rest = line.partition(" ")
    if kind == "ok" and len(rest) == 64:
        return rest
    if kind == "err":
        number, _, message = rest.partition(" ")
        return OSError(int(number) if number.isdigit() else 0, message)
    return None


class Prefetched:
    """Files named on the command line, hashing since before the CLI was imported."""

    def __init__(self, paths: list[str]) -> None:
        self.identities = {i: n for n, p in enumerate(paths) if (i := identity(p)) is not None}
        self.child = spawn(paths, default_workers())

    def answer(self, ident: Identity) -> Answer:
        """The digest of the file with this identity, if it is one of ours."""
        index = self.identities.get(ident)
        if index is None or self.child is None:
            return None
        return self.child.answers()[index]


PREFETCHED: list[Prefetched] = []


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
    files = [a for a in argv[1:] if not a.startswith("-") and os.path.isfile(a)]
    if files and len(files) <= _MAX_PREFETCH:
        PREFETCHED.append(Prefetched(sorted(set(files))))
