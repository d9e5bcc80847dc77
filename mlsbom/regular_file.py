"""Opening a path only when it is a regular file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mlsbom.hash_child import OPEN_FLAGS


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
