"""Which Python files a model loader imports, for hooks that are handed every changed file.

A pre-commit hook receives a project's own scripts too: a training script that calls
`subprocess` is not a model artefact and must not block a commit. A `.py` file is loader code
when a config beside it names its module (`auto_map` and `custom_pipelines` in config.json,
tokenizer_config.json and the other files transformers reads; a component of a diffusers
`model_index.json` one folder up); those are scanned, other `.py` files are not. Every other
file (weights, archives, configs, templates, notebooks, `.pth`) is always scanned: its format is
decided from its bytes, never from its name.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable

from mlsbom.facts import RemoteCode
from mlsbom.remote_code import AUTO_MAP_FILES
from mlsbom.remote_code import _inspect as inspect_config

_CONFIGS = (*sorted(AUTO_MAP_FILES), "model_index.json")
_MAX_CONFIG_BYTES = 4 << 20


def config_modules(folder: str) -> set[str]:
    """Module paths (`pkg/mod.py`) the configs in `folder` make a loader import."""
    found: set[str] = set()
    for name in _CONFIGS:
        path = os.path.join(folder, name)
        try:
            if not os.path.isfile(path) or os.path.getsize(path) > _MAX_CONFIG_BYTES:
                continue
            with open(path, "rb") as f:
                data = json.loads(f.read())
        except (OSError, ValueError, RecursionError):
            continue  # an unreadable config is the scan's business, not the filter's
        for fact in inspect_config(name, data).facts:
            if isinstance(fact, RemoteCode) and not fact.other_repo:
                found.add(fact.module.replace(".", "/") + ".py")
    return found


def is_loader_code(path: str, modules: Callable[[str], set[str]] = config_modules) -> bool:
    """True for a `.py` file a config beside it (or a diffusers pipeline above it) imports.

    `modules` reads a folder's configs; callers checking many files pass one memoised for the
    run (`memoised()`), so each folder's configs are read once.
    """
    folder, name = os.path.split(os.path.abspath(path))
    if name in modules(folder):
        return True
    parent, component = os.path.split(folder)
    return f"{component}/{name}" in modules(parent) or name in modules(parent)


def memoised() -> Callable[[str], set[str]]:
    """`config_modules` remembered per folder, for one run over many files."""
    return functools.cache(config_modules)


def split_project_code(targets: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(targets to scan, project Python files left out); folders and hub targets are kept."""
    kept: list[str] = []
    skipped: list[str] = []
    modules = memoised()
    for target in targets:
        script = target.endswith(".py") and os.path.isfile(target)
        (skipped if script and not is_loader_code(target, modules) else kept).append(target)
    return tuple(kept), tuple(skipped)
