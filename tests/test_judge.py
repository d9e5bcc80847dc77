"""Judging happens once: analysis and every later pass add facts; judge.py alone makes findings."""

from __future__ import annotations

import ast
from pathlib import Path

from mlsbom.config import ScanConfig
from mlsbom.engine import observe, scan
from mlsbom.judge import judge
from mlsbom.rules import load_rules

PACKAGE = Path(__file__).resolve().parent.parent / "mlsbom"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _calls(attribute: bool, name: str) -> dict[str, int]:
    """Modules of the package calling `x.name(...)` (attribute) or `name(...)`, with counts."""
    found: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            hit = (
                isinstance(func, ast.Attribute) and func.attr == name
                if attribute
                else isinstance(func, ast.Name) and func.id == name
            )
            if hit:
                module = path.relative_to(PACKAGE.parent).as_posix()
                found[module] = found.get(module, 0) + 1
    return found


def test_rules_judge_is_called_from_the_judging_stage_alone() -> None:
    assert list(_calls(attribute=True, name="judge")) == ["mlsbom/judge.py"]


def test_the_judging_stage_runs_in_the_engine_alone() -> None:
    callers = _calls(attribute=False, name="judge")
    callers.pop("mlsbom/judge.py", None)
    assert list(callers) == ["mlsbom/engine.py"]


def test_analysis_and_the_passes_after_it_make_no_findings() -> None:
    rules = load_rules()
    targets = [str(FIXTURES / "repo_code"), str(FIXTURES / "containers")]
    found = observe(targets, ScanConfig(hash_files=True), rules)
    assert found.artifacts and not found.findings
    judged = judge(found, rules)
    assert judged.findings, "the fixtures hold findings"
    assert judge(judged, rules) == judged  # judging is a function of the facts alone
    assert judged == scan(targets, ScanConfig(hash_files=True), rules)


def test_verify_report_renders_the_decision_it_is_given(tmp_path: Path) -> None:
    """`verify`'s verdict comes from `policy.decide` over judged signature facts; the report
    only shows it."""
    from mlsbom._cli_signing import render_verify
    from mlsbom.engine import verify
    from mlsbom.models import ArtifactRef, ArtifactResult, Format, ScanResult, Severity
    from mlsbom.policy import VERIFY, Decision, decide
    from mlsbom.signing.check import SignatureCheck
    from mlsbom.signing.signers import SignerPolicy

    check = SignatureCheck("verified", "public-key", "k", "", "m", 3, 0, "signed by k")
    art = ArtifactResult(ArtifactRef("m/model.sig"), Format.UNKNOWN, None, (check,), ())
    result = judge(ScanResult(("m",), (art,)), load_rules())
    assert decide(result, VERIFY).passed
    assert render_verify(result, decide(result, VERIFY), "text").endswith("OK: verified\n")
    refused = Decision(False, Severity.LOW, ())
    assert render_verify(result, refused, "text").endswith("FAIL: not verified\n")
    unsigned = verify(tmp_path, None, SignerPolicy(), load_rules())
    assert [f.rule_id for f in unsigned.findings] == ["signature-unsigned"]
    assert not decide(unsigned, VERIFY).passed
