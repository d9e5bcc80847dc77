"""Parsing scanned text without letting its warnings out."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_parsing() -> Iterator[None]:
    """Silence warnings while a scanned file is parsed: an invalid escape or deprecated syntax in
    the artefact describes the artefact, and must not reach the user's terminal (Python 3.12 made
    invalid escapes visible SyntaxWarnings). Seen from `ast.parse`, `ast.literal_eval` (.npy
    headers), Jinja's lexer and `codecs.escape_decode` (protocol-0 pickle strings). The engine
    wraps each file's whole scan in it, so every parser, present and future, is covered."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
