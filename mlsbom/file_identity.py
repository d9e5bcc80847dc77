"""Which file a path names, unchanged: the identity a walk records and a later read must see.

Stdlib `os` only and light: the hashing child's parent side (speed/hash_child.py) imports it
before the CLI is loaded.
"""

from __future__ import annotations

import os

# O_NONBLOCK: a FIFO opens at once instead of waiting for a writer (POSIX); O_BINARY: no newline
# translation (Windows); O_CLOEXEC: not inherited by the hashing child or workers.
OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
CHANGED_WHILE_HASHED = "it changed while it was hashed"
CHANGED_SINCE_WALK = "it changed between the walk and its hashing"

Identity = tuple[int, int, int, int, int]


class ChangedWhileRead(OSError):
    """The file's size, times or inode changed while it was read: no digest of it is true."""


def identity_of(st: os.stat_result) -> Identity:
    """Device, inode, size, modification and change time: the same file, unchanged (the change
    time cannot be set back by the file's owner, unlike the modification time)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def identity(path: str | os.PathLike[str]) -> Identity | None:
    """The identity of the file at `path` now, or None if it cannot be stat'ed."""
    try:
        return identity_of(os.stat(path))
    except OSError:
        return None
