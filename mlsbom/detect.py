"""Format detection from head bytes; the file name is only a hint."""

from __future__ import annotations

from mlsbom.analyzers import REGISTRY
from mlsbom.analyzers.base import Hint, first_sniff
from mlsbom.analyzers.pickle_vm import head_verdict
from mlsbom.analyzers.pickles import READS_PICKLE_AT_0, PickleAnalyzer
from mlsbom.config import Limits
from mlsbom.models import Format

# formats whose analysers decide on the whole file themselves when it may be a pickle
_PROBE_THEMSELVES = frozenset({Format.UNKNOWN, Format.TEXT})
_PICKLES = PickleAnalyzer()
_LIMITS = Limits()


def registry_format(head: bytes, hint: Hint) -> Format:
    """Ask each analyser's sniff in registry order; the first answer wins."""
    return first_sniff(REGISTRY, head, hint)


def detect(head: bytes, hint: Hint) -> Format:
    """The registry's answer, unless the bytes are also a pickle that pickle.load would run.

    pickle.load and joblib.load read offset 0 whatever else the bytes are: a tar whose first
    member name is a protocol-0 pickle, or a file whose first pickle value runs past the head,
    goes to the pickle analyser, which walks the whole file and hands the other reading on.
    """
    found = registry_format(head, hint)
    if found in READS_PICKLE_AT_0:
        return found
    verdict = head_verdict(head, hint.size, _LIMITS)
    if verdict == "runs" or (verdict == "unsure" and found not in _PROBE_THEMSELVES):
        return _PICKLES.dialect(head)
    return found
