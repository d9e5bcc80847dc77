"""Provenance facts from model cards and configs: base model, datasets, licence, architecture.

Inspectors run while the walk meets the files (local folders and hub repositories alike), so the
SBOM is built from the scan result without reading anything twice. Every string taken from a
card or config is cleaned (control characters dropped, length capped) and what had to be
cleaned is recorded as a `ProvenanceProblem`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mlsbom.analyzers.base import Analysis, Inspector
from mlsbom.facts import (
    ConfigSummary,
    Fact,
    ModelCardInfo,
    ModelConfig,
    ProvenanceProblem,
    ShardIndexInfo,
)

MAX_VALUE = 512  # characters kept of one value
MAX_ITEMS = 64  # items kept of one list (datasets, base models, languages)
MAX_SECTION = 2000  # characters kept of one model card section
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# Model card sections that become CycloneDX model card considerations.
CONSIDERATION_HEADINGS: dict[str, str] = {
    "intended uses": "useCases",
    "intended use": "useCases",
    "uses": "useCases",
    "direct use": "useCases",
    "limitations": "technicalLimitations",
    "bias, risks, and limitations": "technicalLimitations",
    "risks and limitations": "technicalLimitations",
    "out-of-scope use": "technicalLimitations",
    "ethical considerations": "ethicalConsiderations",
    "environmental impact": "environmentalConsiderations",
}


class _Cleaner:
    """Cleans untrusted strings and remembers what it had to change."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[str] = []

    def text(self, value: object, field: str, limit: int = MAX_VALUE) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problems.append(f"{field}: expected a string, found {type(value).__name__}")
            return None
        text = str(value)
        cleaned = _CONTROL.sub("", text)
        if cleaned != text:
            self.problems.append(f"{field}: control characters removed")
        if len(cleaned) > limit:
            self.problems.append(f"{field}: {len(cleaned)} characters, cut to {limit}")
            cleaned = cleaned[:limit]
        return cleaned.strip() or None

    def texts(self, value: object, field: str) -> tuple[str, ...]:
        if value is None:
            return ()
        items: Iterable[object] = value if isinstance(value, list | tuple) else [value]
        out: list[str] = []
        for item in items:
            if len(out) >= MAX_ITEMS:
                self.problems.append(f"{field}: more than {MAX_ITEMS} items, rest dropped")
                break
            text = self.text(item, field)
            if text and text not in out:
                out.append(text)
        return tuple(out)

    def facts(self) -> list[Fact]:
        return [ProvenanceProblem(self.file, p) for p in dict.fromkeys(self.problems)]


def _config(name: str, value: object) -> Analysis:
    clean = _Cleaner(name)
    if not isinstance(value, dict):
        return Analysis([ProvenanceProblem(name, "not a JSON object")])
    fact = ModelConfig(
        name,
        clean.texts(value.get("architectures"), "architectures"),
        clean.text(value.get("model_type"), "model_type"),
        clean.text(value.get("_name_or_path"), "_name_or_path"),
        clean.text(value.get("torch_dtype", value.get("dtype")), "torch_dtype"),
        clean.text(value.get("transformers_version"), "transformers_version"),
    )
    return Analysis([fact, *clean.facts()])


_SUMMARY_KEYS = {
    "generation_config.json": ("max_length", "max_new_tokens", "temperature", "top_p", "do_sample"),
    "tokenizer_config.json": ("tokenizer_class", "model_max_length", "padding_side"),
}


def _summary(name: str, value: object) -> Analysis:
    if not isinstance(value, dict):
        return Analysis([ProvenanceProblem(name, "not a JSON object")])
    clean = _Cleaner(name)
    items = []
    for key in _SUMMARY_KEYS[name]:
        text = clean.text(value.get(key), key, 64)
        if text is not None:
            items.append((key, text))
    if name == "tokenizer_config.json" and "chat_template" in value:
        items.append(("chat_template", "present"))
    return Analysis([ConfigSummary(name, tuple(items)), *clean.facts()])


def _shard_index(name: str, value: object) -> Analysis:
    weight_map = value.get("weight_map") if isinstance(value, dict) else None
    if not isinstance(weight_map, dict):
        return Analysis([ProvenanceProblem(name, "no weight_map object")])
    clean = _Cleaner(name)
    shards = sorted({s for v in weight_map.values() if (s := clean.text(v, "weight_map"))})
    meta = value.get("metadata") if isinstance(value, dict) else None
    total = meta.get("total_size") if isinstance(meta, dict) else None
    size = total if isinstance(total, int) and not isinstance(total, bool) else None
    return Analysis([ShardIndexInfo(name, tuple(shards), size), *clean.facts()])


def _sections(body: str) -> tuple[tuple[str, str], ...]:
    """(consideration kind, text) for the card's known headings, first paragraph or list."""
    out: list[tuple[str, str]] = []
    parts = re.split(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", body, flags=re.MULTILINE)
    for heading, text in zip(parts[1::2], parts[2::2], strict=False):
        kind = CONSIDERATION_HEADINGS.get(heading.strip().lower())
        content = _CONTROL.sub("", text).strip()
        if kind and content and "[More Information Needed]" not in content:
            out.append((kind, content[:MAX_SECTION]))
    return tuple(out)


def _model_card(name: str, text: object) -> Analysis:
    if not isinstance(text, str) or not text.lstrip().startswith("---"):
        return Analysis()
    import yaml
    from huggingface_hub import ModelCard

    try:
        card = ModelCard(text, ignore_metadata_errors=True)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        detail = " ".join(str(exc).split())[:200]
        problem = f"front matter unreadable: {type(exc).__name__}: {detail}"
        return Analysis([ProvenanceProblem(name, _CONTROL.sub("", problem))])
    data = card.data
    clean = _Cleaner(name)
    index = getattr(data, "model_name", None)
    fact = ModelCardInfo(
        clean.text(getattr(data, "license", None), "license"),
        clean.text(getattr(data, "license_name", None), "license_name"),
        clean.texts(getattr(data, "base_model", None), "base_model"),
        clean.texts(getattr(data, "datasets", None), "datasets"),
        clean.text(getattr(data, "pipeline_tag", None), "pipeline_tag"),
        clean.text(getattr(data, "library_name", None), "library_name"),
        clean.texts(getattr(data, "language", None), "language"),
        clean.text(index, "model_name"),
        _sections(card.text),
    )
    return Analysis([fact, *clean.facts()])


def _is_card(name: str) -> bool:
    return name.lower() in ("readme.md", "modelcard.md", "model_card.md")


JSON_INSPECTORS: tuple[Inspector, ...] = (
    Inspector(lambda n: n == "config.json", _config),
    Inspector(lambda n: n in _SUMMARY_KEYS, _summary),
    Inspector(lambda n: n.endswith(".index.json"), _shard_index),
)
TEXT_INSPECTORS: tuple[Inspector, ...] = (Inspector(_is_card, _model_card),)
