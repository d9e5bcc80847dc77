"""Generic guards: every format has an analyser and every analyser module is registered."""

from __future__ import annotations

import importlib
import pkgutil

import mlsbom.analyzers as analyzers
from mlsbom.analyzers import BY_FORMAT, REGISTRY
from mlsbom.models import Format

_HELPERS = {
    "base",
    "config_targets",  # JSON inspector; yaml_files reuses it
    "python_refs",  # name resolution for python_code
    "pth_files",  # .pth reading for the text analyser
    "inspect_hooks",
    "_h5_probe",
    "protowire",
    "pickle_ops",
    "pickle_vm",
    "pickle_values",
    "pickle_machine",
    "pickle_gadgets",
    "pickle_joblib",
    "joblib_reads",
    "quiet",
}


def test_every_format_has_an_analyser() -> None:
    assert set(BY_FORMAT) == set(Format)


def test_every_analyser_module_is_registered() -> None:
    registered = {type(a).__module__ for a in REGISTRY}
    for info in pkgutil.iter_modules(analyzers.__path__):
        if info.name in _HELPERS:
            continue
        module = importlib.import_module(f"mlsbom.analyzers.{info.name}")
        assert module.__name__ in registered, f"{info.name} defines no registered analyser"


def test_unknown_is_last() -> None:
    assert REGISTRY[-1].formats == (Format.UNKNOWN,)
