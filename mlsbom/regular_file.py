"""Opening a path only when it is a regular file (kept light: the hashing prefetch imports it)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (POSIX); O_BINARY: no newline
# translation (Windows); O_CLOEXEC: not inherited by the hashing child or workers.
OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def regular_fd(path: Path | str) -> int:
    """A read-only descriptor of `path` if it is (still) a regular file: a path swapped for a FIFO
    or a device after the walk raises OSError here instead of blocking or reading forever."""
    fd = os.open(path, OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"not a regular file: {path}")
    except BaseException:
        os.close(fd)
        raise
    return fd
