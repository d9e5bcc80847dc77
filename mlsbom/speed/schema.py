"""Workarounds for the CycloneDX schema validation's costs in jsonschema; the checks stay.

- jsonschema imports `rfc3987_syntax` optionally, only to check the `iri`/`iri-reference`
  string formats, and compiling its grammar costs about 0.9 s of import time. Every IRI in
  mlsbom's BOMs is built by mlsbom from validated ids, so the check adds nothing here; the
  schema validation itself is unchanged.
- jsonschema's `uniqueItems` compares every pair of items (4 s for 1,000 files); the validator
  here checks it in linear time, by canonical JSON.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator


def skip_slow_iri_grammar() -> None:
    """Before jsonschema is imported. If it is already (a host application uses it), or the IRI
    grammar is, nothing is changed."""
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import -> ImportError


def fast_validator(version: SchemaVersion) -> JsonStrictValidator:
    """The library's strict validator, its schemas loaded, with a linear `uniqueItems`."""
    from cyclonedx.validation.json import JsonStrictValidator

    validator = JsonStrictValidator(version)
    validator.validate_str("{}")  # loads the schema and its referenced schemas once
    _linear_unique_items(validator)
    return validator


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
    """`uniqueItems` in linear time. Items are compared by their canonical JSON, which is
    equality for the JSON we serialise."""
    from jsonschema import ValidationError

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
    from jsonschema import validators

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
