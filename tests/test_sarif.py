"""SARIF output validates against the SARIF 2.1.0 schema and keeps fingerprints stable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli

SCHEMA = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
)
EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."


def _sarif(target: Path) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["scan", str(target), "--format", "sarif"])
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


@pytest.fixture()
def target(tmp_path: Path) -> Path:
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    (tmp_path / "model.safetensors").write_bytes(EVIL)
    return tmp_path


def test_sarif_validates_against_schema(target: Path) -> None:
    if not SCHEMA.is_file():
        pytest.skip("../shared/schemas/sarif-schema-2.1.0.json is absent (outside the project CI)")
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(_sarif(target), json.loads(SCHEMA.read_text()))


def test_sarif_results_and_rules(target: Path) -> None:
    doc = _sarif(target)
    run = doc["runs"][0]  # type: ignore[index]
    rules = {r["id"] for r in run["tool"]["driver"]["rules"]}
    results = run["results"]
    assert {r["ruleId"] for r in results} <= rules
    crit = [r for r in results if r["ruleId"] == "pickle-dangerous-import"]
    assert crit and all(r["level"] == "error" for r in crit)
    uri = crit[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("evil.pkl") or uri.endswith("model.safetensors")


def test_fingerprints_are_stable(target: Path) -> None:
    first = [r["partialFingerprints"] for r in _sarif(target)["runs"][0]["results"]]  # type: ignore[index]
    second = [r["partialFingerprints"] for r in _sarif(target)["runs"][0]["results"]]  # type: ignore[index]
    assert first == second and len({json.dumps(f) for f in first}) == len(first)
