"""Keras configs, HDF5 references, ONNX external data and config-named paths: loader reach.

Fixtures come from fixtures/gen_loader_paths.py; nothing here loads them (parsing only).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlsbom.analyzers.keras_files import config_facts
from mlsbom.analyzers.loader_paths import path_problem
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.models import Severity
from mlsbom.policy import Policy, decide

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
import gen_loader_paths  # noqa: E402

EXPECTED = gen_loader_paths.expected()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_expectation(name: str) -> None:
    path = FIXTURES / "loader_paths" / name
    target = path.parent if name.endswith(".index.json") else path  # the index with its shards
    result = scan([str(target)], ScanConfig())
    expected = EXPECTED[name]
    rules = sorted({f.rule_id for f in result.findings})
    if expected is None:
        assert [f for f in result.findings if f.severity >= Severity.MEDIUM] == [], rules
        return
    rule_id, fails = expected
    assert rule_id in rules, rules
    assert decide(result, Policy()).passed is not fails, rules
