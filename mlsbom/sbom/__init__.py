"""CycloneDX ML-BOM output (`render.render_sbom`)."""

from mlsbom.sbom._fast_schema import skip_slow_iri_grammar

skip_slow_iri_grammar()  # before anything here imports jsonschema
