"""CycloneDX ML-BOM output (`render.render_sbom`)."""
