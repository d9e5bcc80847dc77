"""Repository code paths: `auto_map`, custom pipelines and components needing trust_remote_code."""

from __future__ import annotations

from mlsbom.analyzers.inspect_hooks import Inspector

JSON_INSPECTORS: tuple[Inspector, ...] = ()
