"""Before the CLI is imported: read the command line and start hashing the files it names.

For `mlsbom sbom ...` and `mlsbom scan ... --sbom F`, the console entry (`__main__.py`) starts
the hashing child on the regular files named, and on those in the folders named, before it
imports click and the rest of mlsbom: hashing begins 0.02 s after start instead of after the
CLI's imports, the walk and the first set-up (0.2-0.3 s on a quiet machine, more on a busy one).
Kept to `os` and `sys`, like hash_child.py.
"""

from __future__ import annotations

import itertools  # built in
import os
import stat  # already imported by os

from mlsbom.speed import Speedups, enabled
from mlsbom.speed.hash_child import Prefetched

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs 10 ms here
if TYPE_CHECKING:
    from collections.abc import Sequence

_HASHING_COMMANDS = ("sbom",)  # commands that always hash; `scan` hashes with --sbom
_MAX_PREFETCH = 64  # files hashed ahead of the CLI (the largest, when there are more)
_MAX_LISTED = 1000  # entries of a folder target looked at; past that it is left to the walk
_SKIPPED_DIRS = (".git",)  # as walk.SKIPPED_DIRS
_VALUE_OPTIONS = ("--keep",)  # options whose value may be a folder that is not a target


def begin(argv: Sequence[str]) -> Speedups:
    """The speed-ups for this run, hashing already under way for the files `argv` names (or
    every trick off with MLSBOM_NO_SPEEDUPS=1)."""
    if not enabled():
        return Speedups(enabled=False)
    return Speedups(prefetched=prefetch(argv))


def prefetch(argv: Sequence[str]) -> Prefetched | None:
    """Start hashing the regular files named on a command line that will hash them, and those
    in the folders it names (not through links, not in `.git`; a folder of more than 1,000
    entries is left to the walk), at most the 64 largest.

    Every argument that names a file counts, so an option's value (a policy file) may be hashed
    for nothing: a small cost, never a wrong digest, since a digest is only adopted for the same
    file unchanged (a file the walk never reaches is simply not asked for).
    """
    if not argv or not (
        argv[0] in _HASHING_COMMANDS
        or (argv[0] == "scan" and any(a == "--sbom" or a.startswith("--sbom=") for a in argv))
    ):
        return None
    named: list[str] = []
    inside: dict[str, int] = {}  # files in folders named, and their sizes
    for before, arg in itertools.pairwise(argv):
        if arg.startswith("-") or before in _VALUE_OPTIONS:
            continue
        if os.path.isfile(arg):
            named.append(arg)
        elif os.path.isdir(arg):
            inside.update(_folder_files(arg))
    chosen = [*named, *sorted(inside, key=lambda p: -inside[p])][:_MAX_PREFETCH]
    return Prefetched(sorted(set(chosen))) if chosen else None


def _folder_files(folder: str) -> dict[str, int]:
    """Regular files under `folder` and their sizes ({} if it holds more than _MAX_LISTED)."""
    found: dict[str, int] = {}
    listed = 0
    for root, dirs, names in os.walk(folder):  # links to folders are not followed
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
        listed += len(dirs) + len(names)
        if listed > _MAX_LISTED:
            return {}
        for name in names:
            path = os.path.join(root, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found[path] = st.st_size
    return found
