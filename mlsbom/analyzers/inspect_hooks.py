"""Content inspectors for small JSON and text files (configs, model cards), keyed by file name.

The JSON and text analysers parse a file once and hand the parsed value to every inspector that
wants that file name. Inspectors live with the feature they serve (remote code, provenance);
this module is their one registration point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlsbom.analyzers.base import Analysis


@dataclass(frozen=True, slots=True)
class Inspector:
    """`wants(file_name)` selects files; `inspect(file_name, value)` describes them."""

    wants: Callable[[str], bool]
    inspect: Callable[[str, object], Analysis]
    generic: bool = False  # wants every file: a file it cannot parse is no loader's config either


def merge(results: list[Analysis]) -> Analysis:
    """One Analysis from several inspectors' results."""
    out = Analysis()
    for r in results:
        out.facts.extend(r.facts)
        out.children.extend(r.children)
    return out


def json_inspectors() -> tuple[Inspector, ...]:
    """Inspectors for parsed JSON values (config.json, tokenizer_config.json, …)."""
    from mlsbom import chat_template_sources, config_paths, provenance, remote_code
    from mlsbom.analyzers import config_targets

    return (
        *remote_code.JSON_INSPECTORS,
        *provenance.JSON_INSPECTORS,
        *chat_template_sources.JSON_INSPECTORS,
        *config_paths.JSON_INSPECTORS,
        *config_targets.JSON_INSPECTORS,
    )


def text_inspectors() -> tuple[Inspector, ...]:
    """Inspectors for decoded text files (model cards)."""
    from mlsbom import provenance

    return provenance.TEXT_INSPECTORS
