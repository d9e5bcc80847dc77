"""Workarounds for the CycloneDX schema validation's costs in jsonschema; the checks stay.

- jsonschema imports a checker library for each string format it knows, if it is installed.
  `rfc3987_syntax` (the `iri`/`iri-reference` formats) compiles a grammar for about 0.9 s; the
  others (`fqdn`, `idna`, `webcolors`, `jsonpointer`, `uri_template`, `isoduration` with arrow,
  `rfc3986_validator`) cost about 0.1 s more, for formats the CycloneDX schemas never use in a
  BOM mlsbom writes (`uri` appears only in JSF signatures, which mlsbom does not emit). They are
  hidden while jsonschema is first imported, and only then: whoever imports them later gets
  them. Every IRI in mlsbom's BOMs is built by mlsbom from validated ids, so the IRI check adds
  nothing here; dates and the schema's structure are checked as before.
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


UNUSED_FORMAT_CHECKERS = (
    "rfc3987_syntax",  # iri, iri-reference
    "rfc3986_validator",  # uri, uri-reference (JSF signatures only)
    "fqdn",  # hostname
    "idna",  # idn-hostname
    "webcolors",  # color
    "jsonpointer",  # json-pointer, relative-json-pointer
    "uri_template",  # uri-template
    "isoduration",  # duration
)


def import_jsonschema() -> None:
    """Import jsonschema without the format checkers above (their modules raise ImportError
    meanwhile, and are importable again after). If jsonschema is already imported, nothing
    changes; a checker already imported stays."""
    if "jsonschema" in sys.modules:
        return
    hidden = [name for name in UNUSED_FORMAT_CHECKERS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def fast_validator(version: SchemaVersion) -> JsonStrictValidator:
    """The library's strict validator, its schemas loaded, with a linear `uniqueItems`."""
    import_jsonschema()
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
