"""Before the CLI is imported: read the command line and start hashing the files it names.

For `mlsbom sbom ...` and `mlsbom scan ... --sbom F`, the console entry (`__main__.py`) starts
the hashing child on the regular files named before it imports click and the rest of mlsbom
(about 0.1 s of a single-file scan). Kept to `os` and `sys`, like hash_child.py.
"""

from __future__ import annotations

import os

from mlsbom.speed import Speedups, enabled
from mlsbom.speed.hash_child import Prefetched

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs 10 ms here
if TYPE_CHECKING:
    from collections.abc import Sequence

_HASHING_COMMANDS = ("sbom",)  # commands that always hash; `scan` hashes with --sbom
_MAX_PREFETCH = 64  # command-line files hashed ahead of the CLI


def begin(argv: Sequence[str]) -> Speedups:
    """The speed-ups for this run, hashing already under way for the files `argv` names (or
    every trick off with MLSBOM_NO_SPEEDUPS=1)."""
    if not enabled():
        return Speedups(enabled=False)
    from mlsbom.speed.schema import skip_slow_iri_grammar

    skip_slow_iri_grammar()
    return Speedups(prefetched=prefetch(argv))


def prefetch(argv: Sequence[str]) -> Prefetched | None:
    """Start hashing the regular files named on a command line that will hash them.

    Every argument that names a regular file counts, so an option's value (a policy file) may be
    hashed for nothing: a small cost, never a wrong digest, since a digest is only adopted for
    the same file unchanged. Folders are left to the walk.
    """
    if not argv or not (
        argv[0] in _HASHING_COMMANDS
        or (argv[0] == "scan" and any(a == "--sbom" or a.startswith("--sbom=") for a in argv))
    ):
        return None
    files = [a for a in argv[1:] if not a.startswith("-") and os.path.isfile(a)]
    if not files or len(files) > _MAX_PREFETCH:
        return None
    return Prefetched(sorted(set(files)))
