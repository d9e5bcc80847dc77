"""The hashing child process: a stdlib-only `python -I -S` that hashes files beside the scan.

Kept to `os` and `sys` (plus the child's own source text): the console entry imports this first
(speed/startup.py), and every import here delays the first byte hashed. pathlib and subprocess
alone cost 20 ms, so on POSIX the child is started with `os.posix_spawn` (subprocess is the
fallback elsewhere).

Protocol: NUL-separated paths on the child's stdin; one line per path on its stdout, in order:
`ok <hex> <dev> <ino> <size> <mtime_ns> <ctime_ns>` (the file's identity, the same before and
after the read), `chg <message>` (it changed while hashed: no digest, since those bytes never
existed as a whole) or `err <errno> <message>`. The child ends with its parent (lifetime.py).
"""

from __future__ import annotations

import os
import sys

from mlsbom.file_identity import OPEN_FLAGS, ChangedWhileRead, Identity, identity
from mlsbom.lifetime import track, track_popen, untrack

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs 10 ms here
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

CHUNK = 1 << 20  # reads that stay in a core's L2 cache while they are hashed (fastest here)

# Up to `workers` threads hash files at once, the largest first, so one big shard does not start
# last behind many small files.
SOURCE = r"""
import hashlib, os, stat, sys, threading
sys.path.append(%(root)r)  # appended: the standard library still comes first
from mlsbom.lifetime import die_with_parent
die_with_parent(%(parent)d)
def ident(st):
    numbers = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return " ".join(map(str, numbers))
def one(path):
    try:
        fd = os.open(path, %(flags)d)  # O_NONBLOCK: a FIFO must not block us
        with open(fd, "rb", buffering=0) as f:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                return "err 0 not a regular file"
            h = hashlib.sha256()
            buf = bytearray(%(chunk)d)
            view = memoryview(buf)
            total = 0
            while n := f.readinto(buf):
                h.update(view[:n])
                total += n
            after = os.fstat(fd)
        if ident(before) != ident(after) or total != before.st_size:
            return "chg the file changed while it was hashed"
        return "ok %%s %%s" %% (h.hexdigest(), ident(before))
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

Answer = str | OSError | None  # a digest, the child's error, or no (believable) answer


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class Child:
    """One hashing child with its paths written to it; `answers` waits for it once."""

    def __init__(self, read: Callable[[], bytes], count: int) -> None:
        self._read = read
        self._count = count
        self._answers: list[Answer] | None = None
        self._identities: list[Identity | None] = []

    def answers(self) -> list[Answer]:
        """One answer per path, in the order given (None where the child said nothing usable)."""
        if self._answers is None:
            try:
                lines = self._read().decode("ascii", "replace").splitlines()
            except OSError:
                lines = []
            got = [_parse(line) for line in lines[: self._count]]
            missing = self._count - len(got)
            self._answers = [a for a, _ in got] + [None] * missing
            self._identities = [i for _, i in got] + [None] * missing
        return self._answers

    def identity(self, index: int) -> Identity | None:
        """The identity of the file the child hashed for path `index` (unchanged while hashed)."""
        self.answers()
        return self._identities[index]


def spawn(paths: Sequence[str | os.PathLike[str]], workers: int) -> Child | None:
    """Start a child hashing `paths`, or None if no child can start (hash in-process then)."""
    if not paths or not sys.executable or getattr(sys, "frozen", False):
        return None  # nothing to do, or no interpreter to start
    workers = max(1, min(workers, len(paths)))
    here = os.path.abspath(__file__)  # <root>/mlsbom/speed/hash_child.py
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    values = {"chunk": CHUNK, "workers": workers, "flags": OPEN_FLAGS}
    code = SOURCE % {**values, "root": root, "parent": os.getpid()}
    argv = [sys.executable, "-I", "-S", "-c", code]
    data = b"".join(os.fsencode(p) + b"\0" for p in paths)
    start = _posix_spawn if hasattr(os, "posix_spawn") else _popen
    try:
        read = start(argv, data)
    except (OSError, ValueError):
        return None
    return Child(read, len(paths))


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
            # Its own session, as subprocess's start_new_session below: Ctrl-C reaches mlsbom,
            # which stops it, and where the kernel groups CPU time by session (autogroup), the
            # scan's own work does not slow the hashing.
            setsid=True,
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
        untrack(pid)

    track(pid, stop)
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
            untrack(pid)

    return read


def _popen(argv: list[str], data: bytes) -> Callable[[], bytes]:
    import subprocess

    proc = subprocess.Popen(  # noqa: S603 - our own stdlib-only code; paths go to stdin
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    out = proc.stdout
    track_popen(proc)
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
            untrack(proc.pid)

    return read


def _parse(line: str) -> tuple[Answer, Identity | None]:
    kind, _, rest = line.partition(" ")
    if kind == "ok":
        digest, *numbers = rest.split(" ")
        if len(digest) == 64 and len(numbers) == 5 and all(n.isdigit() for n in numbers):
            dev, ino, size, mtime, ctime = (int(n) for n in numbers)
            return digest, (dev, ino, size, mtime, ctime)
    if kind == "chg":
        return ChangedWhileRead(0, rest), None
    if kind == "err":
        number, _, message = rest.partition(" ")
        return OSError(int(number) if number.isdigit() else 0, message), None
    return None, None


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
        got = self.child.answers()[index]
        if isinstance(got, str) and self.child.identity(index) != ident:
            return None  # changed between our look and the child's read: hash it again
        return got
