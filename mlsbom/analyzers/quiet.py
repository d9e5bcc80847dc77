"""Parsing scanned text without letting its warnings out."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_parsing() -> Iterator[None]:
    """Silence warnings while parsing scanned text: an invalid escape or deprecated syntax in the
    artefact describes the artefact, and must not reach the user's terminal (Python 3.12 turned
    invalid escapes into visible SyntaxWarnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
