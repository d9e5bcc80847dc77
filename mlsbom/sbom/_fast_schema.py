"""Keep jsonschema from compiling the rfc3987-syntax IRI grammar (about 0.9 s of import time).

jsonschema imports `rfc3987_syntax` optionally, only to check the `iri`/`iri-reference` string
formats. Every IRI in mlsbom's BOMs is built by mlsbom from validated ids, so the check adds
nothing here; the schema validation itself is unchanged. If the module is already imported
(a host application uses it), nothing is changed.
"""

from __future__ import annotations

import sys


def skip_slow_iri_grammar() -> None:
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import -> ImportError
