"""Provenance facts from model cards and configs: base model, datasets, licence, architecture."""

from __future__ import annotations

from mlsbom.analyzers.inspect_hooks import Inspector

JSON_INSPECTORS: tuple[Inspector, ...] = ()
TEXT_INSPECTORS: tuple[Inspector, ...] = ()
