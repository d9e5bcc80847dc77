"""Opening a path only when it is a regular file."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from mlsbom.file_identity import OPEN_FLAGS

MAX_SMALL_FILE = 64 << 20  # policies, keys, certificates, signature bundles, trusted roots


def regular_fd(path: Path | str) -> int:
    """A read-only descriptor of `path` if it is (still) a regular file: a path swapped for a FIFO
    or a device after the walk raises OSError here instead of blocking or reading forever."""
    fd = os.open(path, OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, device or socket)", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path | str, limit: int = MAX_SMALL_FILE) -> bytes:
    """The bytes of a small regular file the user named (a policy, a key, a signature): a FIFO,
    device or socket raises OSError instead of blocking the scan or reading forever, and so does
    a file larger than `limit`."""
    with open(regular_fd(path), "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
    return data


def require_regular(path: Path | str) -> None:
    """OSError unless `path` is a regular file (for libraries that open paths themselves)."""
    os.close(regular_fd(path))
