"""Where chat templates live in JSON configs, and the inspector for `chat_template.json`.

transformers reads a chat template from `tokenizer_config.json` (a string, or a list of
`{name, template}`), `chat_template.json`, and processor/preprocessor configs; each template
found becomes a child artefact that the chat template analyser judges. (`chat_template.jinja`
and `additional_chat_templates/*.jinja` are template files already; GGUF keys are in gguf.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

from mlsbom.analyzers.base import Analysis, Child, Inspector
from mlsbom.models import Format
from mlsbom.sources import BytesSource

TEMPLATE_FILES = frozenset({"chat_template.json"})
MAX_TEMPLATES = 100
MAX_TEMPLATE_BYTES = 1 << 20


def template_entries(data: dict[str, object]) -> Iterator[tuple[str, str]]:
    """(label, source) of every chat template in a parsed config."""
    template = data.get("chat_template")
    if isinstance(template, str):
        yield "chat_template", template
    elif isinstance(template, list):
        for i, entry in enumerate(template[:MAX_TEMPLATES]):
            if isinstance(entry, dict) and isinstance(entry.get("template"), str):
                label = entry.get("name") if isinstance(entry.get("name"), str) else str(i)
                yield f"chat_template[{str(label)[:80]}]", entry["template"]
    elif isinstance(template, dict):
        for name, text in list(template.items())[:MAX_TEMPLATES]:
            if isinstance(text, str):
                yield f"chat_template[{str(name)[:80]}]", text


def template_children(data: dict[str, object]) -> list[Child]:
    """Child artefacts, one per template, forced to the chat template analyser."""
    return [
        Child(
            label,
            BytesSource(text.encode("utf-8", "replace")[:MAX_TEMPLATE_BYTES]),
            force=Format.CHAT_TEMPLATE,
        )
        for label, text in template_entries(data)
    ]


def _inspect(name: str, value: object) -> Analysis:
    return Analysis([], template_children(value)) if isinstance(value, dict) else Analysis()


JSON_INSPECTORS: tuple[Inspector, ...] = (Inspector(lambda n: n in TEMPLATE_FILES, _inspect),)
