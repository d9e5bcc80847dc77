""" "Did you mean" hints for mistyped names (rule ids wherever they are accepted)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, known: Iterable[str], kind: str = "rule id") -> str:
    """A hint naming the closest known names, or where to list them."""
    listing = "`mlsbom rules list` shows every rule id"
    if not isinstance(word, str):
        return listing
    close = difflib.get_close_matches(word, sorted(known), n=3, cutoff=0.6)
    if not close:
        return f"no {kind} is close to {word[:100]!r}; {listing}"
    return f"did you mean {' or '.join(repr(c) for c in close)}? ({listing})"
