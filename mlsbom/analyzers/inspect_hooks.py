"""Content inspectors for small JSON and text files (configs, model cards), keyed by file name.

The JSON and text analysers parse a file once and hand the parsed value to every inspector that
wants that file name. Inspectors (`analyzers.base.Inspector`) live with the feature they serve
(remote code, provenance); this module is their one registration point.
"""

from __future__ import annotations

from mlsbom.analyzers.base import Inspector


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
