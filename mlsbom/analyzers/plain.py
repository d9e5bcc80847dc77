"""Text files and bytes of no recognised format: inventoried, nothing to execute."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format

_CONTROL = frozenset(range(0, 9)) | frozenset(range(14, 32)) - {27}


def is_text(head: bytes) -> bool:
    """UTF-8 (a truncated last character allowed) without NULs or many control bytes."""
    sample = head[:8192]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data" or len(head) <= len(sample):
            return False  # only a character cut by the sample's end is forgiven
    controls = sum(1 for b in sample if b in _CONTROL)
    return controls * 100 <= len(sample)


class TextAnalyzer:
    formats: tuple[Format, ...] = (Format.TEXT,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return Format.TEXT if is_text(head) else None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()


class UnknownAnalyzer:
    formats: tuple[Format, ...] = (Format.UNKNOWN,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return Format.UNKNOWN

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
