"""Render a scan result as CycloneDX JSON: build, add the model card, validate, serialise."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from functools import cache

from cyclonedx.output.json import BY_SCHEMA_VERSION
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from mlsbom.errors import MlsbomError
from mlsbom.models import ScanResult
from mlsbom.sbom.builder import build_bom
from mlsbom.sbom.modelcard import add_model_cards

SPECS = {"1.6": SchemaVersion.V1_6, "1.7": SchemaVersion.V1_7}
Validator = Callable[[SchemaVersion], JsonStrictValidator]


class SbomError(MlsbomError):
    """The BOM mlsbom built does not validate (a bug: report it)."""


@cache
def plain_validator(version: SchemaVersion) -> JsonStrictValidator:
    """The library's strict validator for `version` (built once: it loads the schemas)."""
    return JsonStrictValidator(version)


def bom_timestamp() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(tz=timezone.utc).replace(microsecond=0)


def render_sbom(
    result: ScanResult,
    spec: str = "1.6",
    timestamp: datetime | None = None,
    validator: Validator = plain_validator,
) -> str:
    """The CycloneDX JSON for a scan result, validated against the schema before it is returned
    (by `validator`'s for the spec's version: speed.schema has a faster one)."""
    version = SPECS[spec]
    bom, models = build_bom(result, timestamp or bom_timestamp())
    raw = BY_SCHEMA_VERSION[version](bom).output_as_string()
    doc = json.loads(raw)
    add_model_cards(doc, models)
    text = json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    error = validator(version).validate_str(text)
    if error is not None:
        raise SbomError(f"generated CycloneDX {spec} BOM is invalid: {error}")
    return text
