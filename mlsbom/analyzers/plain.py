"""Text files and bytes of no recognised format: inventoried, nothing to execute."""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.inspect_hooks import merge, text_inspectors
from mlsbom.facts import LimitExceeded
from mlsbom.models import Format

MAX_INSPECTED_TEXT = 4 << 20  # model cards and similar; larger text is only inventoried

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
        name = job.ref.name
        wanted = [i for i in text_inspectors() if i.wants(name)]
        if not wanted:
            return Analysis()
        with job.source.open() as f:
            raw = f.read(MAX_INSPECTED_TEXT + 1)
        if len(raw) > MAX_INSPECTED_TEXT:
            return Analysis([LimitExceeded("text-bytes", MAX_INSPECTED_TEXT)])
        text = raw.decode("utf-8", "replace")
        return merge([i.inspect(name, text) for i in wanted])


class RepositoryAnalyzer:
    """A pseudo artefact standing for a whole repository (hub or cache); it carries walk facts."""

    formats: tuple[Format, ...] = (Format.REPOSITORY,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()


class UnknownAnalyzer:
    formats: tuple[Format, ...] = (Format.UNKNOWN,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        return Format.UNKNOWN

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
