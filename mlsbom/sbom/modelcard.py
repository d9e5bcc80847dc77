"""The CycloneDX `modelCard` (the library does not model it), added to the JSON by bom-ref."""

from __future__ import annotations

from typing import Any

from mlsbom.sbom.builder import ModelFacts

# pipeline_tag -> (input formats, output formats)
_IO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "text-classification": (("text",), ("label",)),
    "token-classification": (("text",), ("label",)),
    "text-generation": (("text",), ("text",)),
    "text2text-generation": (("text",), ("text",)),
    "translation": (("text",), ("text",)),
    "summarization": (("text",), ("text",)),
    "fill-mask": (("text",), ("text",)),
    "question-answering": (("text",), ("text",)),
    "feature-extraction": (("text",), ("embedding",)),
    "sentence-similarity": (("text",), ("embedding",)),
    "image-classification": (("image",), ("label",)),
    "object-detection": (("image",), ("bounding boxes",)),
    "image-to-text": (("image",), ("text",)),
    "text-to-image": (("text",), ("image",)),
    "automatic-speech-recognition": (("audio",), ("text",)),
    "text-to-speech": (("text",), ("audio",)),
    "audio-classification": (("audio",), ("label",)),
    "voice-activity-detection": (("audio",), ("label",)),
}


def model_card(model: ModelFacts) -> dict[str, Any] | None:
    """The modelCard object for one model, or None when nothing is known."""
    card, config = model.card, model.config
    params: dict[str, Any] = {}
    if card and card.pipeline_tag:
        params["task"] = card.pipeline_tag
        inputs, outputs = _IO.get(card.pipeline_tag, ((), ()))
        if inputs:
            params["inputs"] = [{"format": f} for f in inputs]
            params["outputs"] = [{"format": f} for f in outputs]
    if config and config.model_type:
        params["architectureFamily"] = config.model_type
    if config and config.architectures:
        params["modelArchitecture"] = config.architectures[0]
    if card and card.datasets:
        params["datasets"] = [{"ref": f"dataset/{d}"} for d in card.datasets]
    considerations: dict[str, Any] = {}
    for kind, text in card.sections if card else ():
        if kind == "ethicalConsiderations":
            considerations.setdefault(kind, []).append({"name": text})
        elif kind == "environmentalConsiderations":
            props = considerations.setdefault(kind, {"properties": []})["properties"]
            props.append({"name": "mlsbom:model-card", "value": text})
        else:
            considerations.setdefault(kind, []).append(text)
    out: dict[str, Any] = {}
    if params:
        out["modelParameters"] = params
    if considerations:
        out["considerations"] = considerations
    return out or None


def add_model_cards(doc: dict[str, Any], models: list[ModelFacts]) -> None:
    """Insert each model's card into its component, and a `data` block into each dataset's."""
    by_ref: dict[str, dict[str, Any]] = {}
    meta = doc.get("metadata", {}).get("component")
    for comp in ([meta] if meta else []) + list(doc.get("components", [])):
        by_ref[comp.get("bom-ref", "")] = comp
    for model in models:
        card = model_card(model)
        target = by_ref.get(model.ref)
        if card and target is not None:
            target["modelCard"] = {"bom-ref": f"{model.ref}/model-card", **card}
    for ref, comp in by_ref.items():
        if comp.get("type") == "data" and ref.startswith("dataset/"):
            comp["data"] = [{"type": "dataset", "name": comp.get("name", ref[8:])}]
