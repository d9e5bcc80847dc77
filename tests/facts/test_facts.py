"""Facts have one home: every fact class lives in `mlsbom.facts`, which imports nothing above it."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import mlsbom
import mlsbom.facts as facts
from mlsbom.facts import FAMILIES, Fact, fact_kinds


def _all_fact_classes() -> set[type[Fact]]:
    """Every Fact subclass defined in mlsbom, once every module of it is imported."""
    for info in pkgutil.walk_packages(mlsbom.__path__, "mlsbom."):
        if info.name != "mlsbom.__main__":
            importlib.import_module(info.name)
    found: set[type[Fact]] = set()
    pending = list(Fact.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        module = sys.modules.get(cls.__module__)
        if not cls.__module__.startswith("mlsbom."):
            continue
        if getattr(module, cls.__qualname__, None) is cls:  # not a class dataclass(slots) replaced
            found.add(cls)
    return found


def test_every_fact_class_lives_in_the_facts_package_and_is_found() -> None:
    classes = _all_fact_classes()
    outside = sorted(
        f"{c.__module__}.{c.__qualname__}"
        for c in classes
        if c.__module__.rpartition(".")[0] != "mlsbom.facts"
    )
    assert not outside, f"fact classes outside mlsbom.facts: {outside}"
    assert set(fact_kinds().values()) == classes


def test_every_family_module_is_listed() -> None:
    modules = {f"mlsbom.facts.{i.name}" for i in pkgutil.iter_modules(facts.__path__)}
    assert modules == {m.__name__ for m in FAMILIES}


def test_every_fact_class_is_exported() -> None:
    for cls in fact_kinds().values():
        assert cls.__name__ in facts.__all__
        assert getattr(facts, cls.__name__) is cls


def test_kinds_are_unique_and_named() -> None:
    kinds = [c.kind for c in fact_kinds().values()]
    assert len(kinds) == len(set(kinds))
    assert "fact" not in kinds


def test_facts_import_nothing_above_them() -> None:
    """Facts sit below models and everything else: only the standard library and each other."""
    for path in Path(facts.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: use absolute imports"
                names = [node.module or ""]
            for name in names:
                if name == "mlsbom" or name.startswith("mlsbom."):
                    assert name == "mlsbom.facts" or name.startswith("mlsbom.facts."), (
                        f"{path.name} imports {name}"
                    )
