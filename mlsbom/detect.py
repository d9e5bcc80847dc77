"""Format detection from head bytes; the file name is only a hint."""

from __future__ import annotations

from mlsbom.analyzers import REGISTRY
from mlsbom.analyzers.base import Hint
from mlsbom.models import Format


def detect(head: bytes, hint: Hint) -> Format:
    """Ask each analyser's sniff in registry order; the first answer wins."""
    for analyzer in REGISTRY:
        fmt = analyzer.sniff(head, hint)
        if fmt is not None:
            return fmt
    return Format.UNKNOWN
