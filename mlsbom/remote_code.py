"""Repository code paths: `auto_map`, custom pipelines and components needing trust_remote_code.

transformers imports the `.py` modules an `auto_map` names when a model is loaded with
`trust_remote_code=True`; `org/repo--module.Class` pulls the module from another repository.
diffusers does the same for `model_index.json` components whose library is not a known package.
Chat templates in tokenizer configs are handed to the chat template analyser as child artefacts.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlsbom.analyzers.base import Analysis, Child, Inspector
from mlsbom.facts import Fact, RemoteCode
from mlsbom.models import Format
from mlsbom.sources import BytesSource

AUTO_MAP_FILES = frozenset(
    {
        "config.json",
        "tokenizer_config.json",
        "processor_config.json",
        "preprocessor_config.json",
        "feature_extractor_config.json",
        "image_processor_config.json",
        "video_preprocessor_config.json",
        "adapter_config.json",
        "generation_config.json",
    }
)
KNOWN_LIBRARIES = frozenset(
    {"diffusers", "transformers", "peft", "sentence_transformers", "onnxruntime.training"}
)
# `diffusers.pipelines.<name>` modules that real model_index.json files name as a component's
# library (SD 1.5 `safety_checker: ["stable_diffusion", …]`): diffusers resolves these first
DIFFUSERS_PIPELINE_MODULES = frozenset(
    {
        "stable_diffusion", "stable_diffusion_safe", "stable_diffusion_xl", "deepfloyd_if",
        "kandinsky", "kandinsky2_2", "kandinsky3", "alt_diffusion", "versatile_diffusion",
        "latent_diffusion", "paint_by_example", "wuerstchen", "stable_cascade", "shap_e",
        "blip_diffusion", "audioldm2", "kolors", "unclip", "semantic_stable_diffusion",
        "stable_video_diffusion", "i2vgen_xl", "musicldm", "pixart_alpha", "hunyuandit",
        "controlnet", "t2i_adapter", "deprecated",
    }
)  # fmt: skip
MAX_REFERENCES = 200
MAX_TEMPLATE_BYTES = 1 << 20


def _split(reference: str) -> tuple[str, str]:
    """(module, other repo or "") of `module.Class` or `org/repo--module.Class`."""
    repo = ""
    if "--" in reference:
        repo, _, reference = reference.partition("--")
    module = reference.rsplit(".", 1)[0] if "." in reference else reference
    return module, repo


def _references(value: object) -> Iterator[str]:
    items = value if isinstance(value, list | tuple) else [value]
    for item in items:
        if isinstance(item, str) and item.strip():
            yield item.strip()[:300]


def _auto_map(name: str, data: dict[str, object]) -> Iterator[RemoteCode]:
    auto_map = data.get("auto_map")
    if isinstance(auto_map, dict):
        for key, value in auto_map.items():
            for ref in _references(value):
                module, repo = _split(ref)
                yield RemoteCode(name, f"auto_map.{key}"[:200], ref, module, repo)
    pipelines = data.get("custom_pipelines")
    if isinstance(pipelines, dict):
        for task, spec in pipelines.items():
            impl = spec.get("impl") if isinstance(spec, dict) else None
            for ref in _references(impl):
                module, repo = _split(ref)
                yield RemoteCode(name, f"custom_pipelines.{task}"[:200], ref, module, repo)


def _diffusers(name: str, data: dict[str, object]) -> Iterator[RemoteCode]:
    for key, value in data.items():
        if key == "_class_name" and isinstance(value, list) and len(value) == 2:
            library, cls = value
            if isinstance(library, str) and isinstance(cls, str) and library:
                yield RemoteCode(name, key, f"{library}.{cls}", library, "")
            continue
        if key.startswith("_") or not isinstance(value, list) or len(value) != 2:
            continue
        library, cls = value
        known = KNOWN_LIBRARIES | DIFFUSERS_PIPELINE_MODULES
        if isinstance(library, str) and library not in known and isinstance(cls, str):
            module, repo = _split(library)
            yield RemoteCode(name, key[:200], f"{library}.{cls}", module, repo)


def _templates(data: dict[str, object]) -> Iterator[tuple[str, str]]:
    from mlsbom.chat_template_sources import template_entries

    return template_entries(data)


def _inspect(name: str, value: object) -> Analysis:
    if not isinstance(value, dict):
        return Analysis()
    finder = _diffusers if name == "model_index.json" else _auto_map
    facts: list[Fact] = []
    for fact in finder(name, value):
        if len(facts) >= MAX_REFERENCES:
            break
        facts.append(fact)
    children = [
        Child(
            member,
            BytesSource(text.encode("utf-8", "replace")[:MAX_TEMPLATE_BYTES]),
            force=Format.CHAT_TEMPLATE,
        )
        for member, text in _templates(value)
    ]
    return Analysis(list(dict.fromkeys(facts)), children)


JSON_INSPECTORS: tuple[Inspector, ...] = (
    Inspector(lambda n: n in AUTO_MAP_FILES or n == "model_index.json", _inspect),
)
