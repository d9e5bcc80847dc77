"""Must catch: every malicious fixture fails the default policy and names the import it abuses."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.facts import PickleGlobalMutation, PickleImport, PickleUnresolved
from mlsbom.models import Severity
from mlsbom.policy import Policy, decide

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))
gen_malicious = pytest.importorskip("gen_malicious")
EXPECTED: dict[str, tuple[str, ...]] = gen_malicious.EXPECTED


def test_every_malicious_file_has_an_expectation() -> None:
    files = {
        p.relative_to(FIXTURES / "malicious").as_posix()
        for p in (FIXTURES / "malicious").rglob("*")
        if p.is_file()
    }
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malicious_fixture_is_caught(name: str) -> None:
    result = scan([str(FIXTURES / "malicious" / name)], ScanConfig())
    assert not decide(result, Policy()).passed
    reported = {
        str(fact.target)
        for art in result.artifacts
        for fact in art.facts
        if isinstance(fact, PickleImport)
    }
    facts = [fact for art in result.artifacts for fact in art.facts]
    special = {
        "<ext>": any(isinstance(f, PickleUnresolved) for f in facts),
        "<mutation>": any(isinstance(f, PickleGlobalMutation) for f in facts),
    }
    for target in EXPECTED[name]:
        assert special.get(target, target in reported), (name, target, sorted(reported))
    assert any(f.severity >= Severity.HIGH for f in result.findings), name
