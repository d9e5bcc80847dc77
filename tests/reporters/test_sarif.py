"""SARIF for GitHub code scanning: schema-valid, relative locations with base ids, lines,
fingerprints that survive unrelated edits, and the severity the policy applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.facts import HubRepository
from mlsbom.models import ArtifactRef, ArtifactResult, Format, ScanResult
from mlsbom.reporters.sarif_locations import HF, SRCROOT, Locator

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."
TEMPLATE = '{# chat #}\n\n{{ cycler.__init__.__globals__.os.popen("echo ok").read() }}\n'


def _sarif(target: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["scan", str(target), "--format", "sarif", *args])
    assert result.exit_code == 1, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture()
def target(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "evil.pkl").write_bytes(EVIL)
    (root / "model.safetensors").write_bytes(EVIL)
    (root / "chat_template.jinja").write_text(TEMPLATE)
    return root


def _results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = doc["runs"][0]["results"]
    return results


def test_sarif_validates_against_the_schema_in_the_repository(target: Path) -> None:
    import jsonschema

    jsonschema.validate(_sarif(target), json.loads(SCHEMA.read_text()))


def test_every_result_has_a_relative_uri_base_and_line(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(target.parent)
    doc = _sarif(Path("repo"))
    bases = doc["runs"][0]["originalUriBaseIds"]
    assert bases[SRCROOT]["uri"] == target.parent.resolve().as_uri() + "/"
    for r in _results(doc):
        physical = r["locations"][0]["physicalLocation"]
        loc = physical["artifactLocation"]
        assert loc["uriBaseId"] in bases and not loc["uri"].startswith(("/", "file:"))
        assert physical["region"]["startLine"] >= 1
    byname = {
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["ruleId"]): r
        for r in _results(doc)
    }
    pkl = byname["repo/evil.pkl", "pickle-dangerous-import"]
    assert pkl["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert pkl["properties"]["byteOffset"] == 0
    template = byname["repo/chat_template.jinja", "chat-template-escape"]
    assert template["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}


def test_a_target_outside_the_working_directory_gets_its_own_base(target: Path) -> None:
    doc = _sarif(target)
    bases = doc["runs"][0]["originalUriBaseIds"]
    assert bases == {"TARGET1": {"uri": target.resolve().as_uri() + "/"}}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in _results(doc)}
    assert {"evil.pkl", "chat_template.jinja"} <= uris


def _fingerprints(doc: dict[str, Any]) -> dict[str, str]:
    return {
        r["partialFingerprints"]["mlsbom/v2"]: (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        )
        for r in _results(doc)
    }


def test_fingerprints_are_unique_and_survive_unrelated_edits(target: Path) -> None:
    first = _sarif(target)
    assert len(_fingerprints(first)) == len(_results(first))
    (target / "chat_template.jinja").write_text("{# a new comment #}\n\n" + TEMPLATE)
    (target / "README.md").write_text("# unrelated\n")
    second = _sarif(target)
    assert _fingerprints(first) == _fingerprints(second)
    lines = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in _results(second)
        if r["ruleId"] == "chat-template-escape"
    }
    assert lines == {5}


def test_security_severity_is_the_one_the_policy_applied(target: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'fail_on = "medium"\n[rules]\nseverity = { pickle-dangerous-import = "medium" }\n'
    )
    doc = _sarif(target, "--policy", str(policy))
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    rule = rules["pickle-dangerous-import"]
    assert rule["properties"]["security-severity"] == "5.5"
    assert rule["defaultConfiguration"]["level"] == "warning"
    hits = [r for r in _results(doc) if r["ruleId"] == "pickle-dangerous-import"]
    assert hits and all(r["level"] == "warning" for r in hits)
    assert all(r["properties"]["security-severity"] == "5.5" for r in hits)
    for r in _results(doc):  # rule and result always agree
        assert (
            r["properties"]["security-severity"]
            == rules[r["ruleId"]]["properties"]["security-severity"]
        )


def test_waived_results_are_suppressed_with_the_reason(target: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[[waivers]]\nrule = "pickle-dangerous-import"\npath = "*/evil.pkl"\n'
        'reason = "known test vector"\nexpires = 2999-01-01\n'
    )
    doc = _sarif(target, "--policy", str(policy))
    waived = [r for r in _results(doc) if "suppressions" in r]
    assert waived and all(
        "known test vector" in s["justification"] for r in waived for s in r["suppressions"]
    )


def test_hub_results_point_at_the_file_page_on_the_hub() -> None:
    repo = HubRepository(
        "org/name", "model", "0123abc", "https://hub.example", None, None, None, None, 1, 9, 9
    )
    repo_ref = ArtifactRef("hf://org/name", target="hf://org/name")
    file_ref = ArtifactRef("hf://org/name/sub dir/m.bin", target="hf://org/name")
    result = ScanResult(
        ("hf://org/name",),
        (
            ArtifactResult(repo_ref, Format.REPOSITORY, None, (repo,), ()),
            ArtifactResult(file_ref, Format.PICKLE, 9, (), ()),
        ),
    )
    locator = Locator(result)
    assert locator.artifact_location(file_ref) == {
        "uri": "org/name/blob/0123abc/sub%20dir/m.bin",
        "uriBaseId": HF,
    }
    assert locator.artifact_location(repo_ref) == {
        "uri": "org/name",
        "uriBaseId": HF,
    }
    assert locator.bases == {HF: {"uri": "https://hub.example/"}}
