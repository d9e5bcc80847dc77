"""mlsbom: scan ML model artefacts without loading them, and describe them as a CycloneDX ML-BOM."""

__version__ = "0.1.0"
