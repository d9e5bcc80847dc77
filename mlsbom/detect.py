"""Format detection from head bytes; the file name is only a hint."""

from __future__ import annotations

from mlsbom.analyzers import REGISTRY
from mlsbom.analyzers.base import Hint
from mlsbom.analyzers.pickle_vm import head_runs_code
from mlsbom.analyzers.pickles import PickleAnalyzer
from mlsbom.config import Limits
from mlsbom.models import Format

# formats whose analysers walk the pickle that pickle.load reads from offset 0
_READS_PICKLE_AT_0 = frozenset(
    {Format.PICKLE, Format.JOBLIB, Format.DILL, Format.CLOUDPICKLE, Format.PYTORCH_LEGACY}
)
_PICKLES = PickleAnalyzer()
_LIMITS = Limits()


def detect(head: bytes, hint: Hint) -> Format:
    """Ask each analyser's sniff in registry order; the first answer wins.

    A polyglot whose first bytes are also a pickle that imports and calls something (a tar whose
    first member name is a protocol-0 pickle, say) is a pickle: pickle.load and joblib.load read
    offset 0 whatever else the bytes are.
    """
    found = Format.UNKNOWN
    for analyzer in REGISTRY:
        fmt = analyzer.sniff(head, hint)
        if fmt is not None:
            found = fmt
            break
    if found not in _READS_PICKLE_AT_0 and head_runs_code(head, _LIMITS):
        return _PICKLES.dialect(head)
    return found
