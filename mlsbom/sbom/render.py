"""Render a scan result as CycloneDX JSON: build, add the model card, validate, serialise."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from functools import cache
from typing import Any

from cyclonedx.output.json import BY_SCHEMA_VERSION
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from jsonschema import ValidationError, validators

from mlsbom.errors import MlsbomError
from mlsbom.models import ScanResult
from mlsbom.sbom.builder import build_bom
from mlsbom.sbom.modelcard import add_model_cards

SPECS = {"1.6": SchemaVersion.V1_6, "1.7": SchemaVersion.V1_7}


class SbomError(MlsbomError):
    """The BOM mlsbom built does not validate (a bug: report it)."""


@cache
def _validator(version: SchemaVersion) -> JsonStrictValidator:
    validator = JsonStrictValidator(version)
    validator.validate_str("{}")  # loads the schema and its referenced schemas once
    _linear_unique_items(validator)
    return validator


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
    """`uniqueItems` in linear time: jsonschema compares every pair (4 s for 1,000 files).

    Items are compared by their canonical JSON, which is equality for the JSON we serialise.
    """
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[str] = set()
    for item in instance:
        key = json.dumps(item, sort_keys=True, separators=(",", ":"))
        if key in seen:
            yield ValidationError(f"{instance!r:.200} has non-unique elements")
            return
        seen.add(key)


def _linear_unique_items(validator: JsonStrictValidator) -> None:
    """Swap the library's Draft 7 validator for the same one with a linear uniqueItems.

    Uses the library's cached validator instance; if its internals ever change, the library's
    own (quadratic but correct) validator stays in place.
    """
    attr = "_BaseJsonValidator__validator"
    inner = getattr(validator, attr, None)
    if inner is None or not hasattr(inner, "evolve"):
        return
    fast = validators.extend(type(inner), {"uniqueItems": _unique_items})
    setattr(
        validator,
        attr,
        fast(inner.schema, registry=inner._registry, format_checker=inner.format_checker),
    )


def bom_timestamp() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(tz=timezone.utc).replace(microsecond=0)


def render_sbom(result: ScanResult, spec: str = "1.6", timestamp: datetime | None = None) -> str:
    """The CycloneDX JSON for a scan result, validated against the schema before it is returned."""
    version = SPECS[spec]
    bom, models = build_bom(result, timestamp or bom_timestamp())
    raw = BY_SCHEMA_VERSION[version](bom).output_as_string()
    doc = json.loads(raw)
    add_model_cards(doc, models)
    text = json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    error = _validator(version).validate_str(text)
    if error is not None:
        raise SbomError(f"generated CycloneDX {spec} BOM is invalid: {error}")
    return text
