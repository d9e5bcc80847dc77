"""Decompiled-Python evidence for flagged pickles, from fickling (static: it never unpickles).

fickling raises on fuzzed input and prints warnings, so every call is bounded in input size,
silenced, and guarded; failure only means no explanation.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import io
import warnings

from mlsbom.config import Limits
from mlsbom.models import ArtifactResult, Format, Severity
from mlsbom.sources import Source

MAX_EXPLAIN_BYTES = 4 << 20  # fickling holds 2-3x its input in memory
MAX_EXPLAIN_CHARS = 4000


def decompile(data: bytes) -> str | None:
    """fickling's Python rendering of the first pickle in `data`, or None if it cannot."""
    try:
        from fickling.fickle import Pickled
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    sink = io.StringIO()
    try:
        with (
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            pickled = Pickled.load(io.BytesIO(data), fail_on_decode_error=False)
            text = ast.unparse(pickled.ast)
    except Exception:
        return None
    return text[:MAX_EXPLAIN_CHARS] + ("\n# … truncated" if len(text) > MAX_EXPLAIN_CHARS else "")


def explain_pickle(
    result: ArtifactResult, source: Source, limits: Limits, worst: Severity | None
) -> ArtifactResult:
    """Attach fickling's decompilation to a pickle artefact the rules rate high or critical
    (`worst`: the highest severity they give its facts)."""
    if worst is None or worst < Severity.HIGH or result.format is Format.PYTORCH_ZIP:
        return result
    if result.size is not None and result.size > MAX_EXPLAIN_BYTES:
        return result
    try:
        with source.open() as f:
            data = f.read(MAX_EXPLAIN_BYTES)
    except Exception:
        return result
    text = decompile(data)
    return dataclasses.replace(result, explanation=text) if text else result
