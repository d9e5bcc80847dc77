"""Rule files load strictly; malformed rules are rejected with a message naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsbom.errors import RuleError
from mlsbom.facts import GlobalRef, PickleImport, fact_kinds
from mlsbom.models import ArtifactRef
from mlsbom.rules import GlobalPattern, load_rules, rules_dir


def test_shipped_rules_load() -> None:
    rules = load_rules()
    assert len(rules.rules) >= 15
    for rule in rules.rules:
        assert rule.fact in fact_kinds()
        assert rule.description and rule.remediation


@pytest.mark.parametrize(
    ("pattern", "ref", "expected"),
    [
        ("os:**", GlobalRef("os", "system"), True),
        ("torch.nn.modules.*:[A-Z]*", GlobalRef("torch.nn.modules.linear", "Linear"), True),
        (
            "torch.nn.modules.*:[A-Z]*",
            GlobalRef("torch.nn.modules.linear", "Linear.__init__.__globals__"),
            False,
        ),
        ("builtins:*.**", GlobalRef("builtins", "object.__subclasses__"), True),
        ("collections:OrderedDict", GlobalRef("collections", "OrderedDictX"), False),
    ],
)
def test_global_patterns(pattern: str, ref: GlobalRef, expected: bool) -> None:
    assert GlobalPattern.parse(pattern).matches(ref) is expected


def _import(module: str, name: str) -> PickleImport:
    return PickleImport(GlobalRef(module, name), "GLOBAL", 0, "0", True, 1)


@pytest.mark.parametrize(
    ("module", "name", "rule_id"),
    [
        ("posix", "system", "pickle-dangerous-import"),
        ("dill._dill", "_create_code", "pickle-code-rebuild"),
        ("mystery_module", "helper", "pickle-unknown-import"),
        ("torch.nn.modules.linear", "Linear.__init__.__globals__", "pickle-dangerous-import"),
    ],
)
def test_import_judgement(module: str, name: str, rule_id: str) -> None:
    findings = load_rules().judge([_import(module, name)], ArtifactRef("x.pkl"))
    assert [f.rule_id for f in findings] == [rule_id]


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("sklearn.linear_model._logistic", "LogisticRegression"),
    ],
)
def test_safe_imports_produce_nothing(module: str, name: str) -> None:
    assert load_rules().judge([_import(module, name)], ArtifactRef("x.pkl")) == []


def _write_rules(tmp: Path, body: str, name: str = "r-one") -> Path:
    src = rules_dir()
    (tmp / "lists").mkdir()
    (tmp / "formats").mkdir()
    (tmp / "formats" / "extensions.toml").write_text(
        (src / "formats" / "extensions.toml").read_text()
    )
    (tmp / f"{name}.toml").write_text(body)
    return tmp


_GOOD = """id = "r-one"
title = "t"
severity = "high"
fact = "pickle-import"
message = "m {target}"
description = "d"
remediation = "r"
"""


def test_minimal_rule_loads(tmp_path: Path) -> None:
    assert load_rules(_write_rules(tmp_path, _GOOD)).by_id["r-one"].severity.label == "high"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (_GOOD + "bogus = 1\n", "unknown keys"),
        (_GOOD.replace('"high"', '"severe"'), "unknown severity"),
        (_GOOD.replace('"pickle-import"', '"nope"'), "unknown fact kind"),
        (_GOOD + "[match]\nnot_a_field = { equals = 1 }\n", "has no field"),
        (_GOOD + "[match]\ntarget = { in = ['@missing'] }\n", "unknown list"),
        (_GOOD + "[match]\ntarget = { like = 'x' }\n", "takes one of"),
        (_GOOD.replace("m {target}", "m {nothing}"), "unknown field"),
        (_GOOD.replace('id = "r-one"', 'id = "other"'), "must equal the file name"),
        ("id = ", "r-one.toml"),
    ],
)
def test_malformed_rules_are_rejected(tmp_path: Path, body: str, needle: str) -> None:
    with pytest.raises(RuleError, match=needle):
        load_rules(_write_rules(tmp_path, body))


_SIGNATURE = _GOOD.replace('"pickle-import"', '"signature"').replace("{target}", "{status}")


@pytest.mark.parametrize(
    ("match", "loads"),
    [
        ("status = { equals = 'invalid' }", True),
        ("status = { in = ['un*', 'mismatch'] }", True),
        ("status = { equals = 'invalidd' }", False),  # a typo would never match
        ("status = { not_in = ['verfied'] }", False),
    ],
)
def test_enum_fields_match_only_their_values(tmp_path: Path, match: str, loads: bool) -> None:
    body = _SIGNATURE + f"[match]\n{match}\n"
    if loads:
        load_rules(_write_rules(tmp_path, body))
    else:
        with pytest.raises(RuleError, match="is not a SignatureStatus"):
            load_rules(_write_rules(tmp_path, body))


def test_signature_rules_judge_the_status_enum() -> None:
    from mlsbom.facts import SignatureStatus
    from mlsbom.signing.check import SignatureCheck

    rules = load_rules()
    for status in SignatureStatus:
        check = SignatureCheck(status, "keyless", "", "", "m", 0, 0, "d")
        ids = [f.rule_id for f in rules.judge([check], ArtifactRef("m"))]
        expected = {"invalid", "untrusted", "unchecked", "malformed"}
        assert ids == ([f"signature-{status}"] if status.value in expected else []), status
        for f in rules.judge([check], ArtifactRef("m")):
            assert "SignatureStatus" not in f.message


def test_global_patterns_follow_the_field_type_not_its_name(tmp_path: Path) -> None:
    """`target` is a pickle global on pickle-import but a link's target on symlink-outside-root
    (and the scan target on signature-missing): only a GlobalRef field takes `module:name`."""
    from mlsbom.facts import SymlinkOutsideRoot

    body = (
        _GOOD.replace('"pickle-import"', '"symlink-outside-root"')
        + "[match]\ntarget = { in = ['/etc/*'] }\n"
    )
    rules = load_rules(_write_rules(tmp_path, body))
    hits = rules.judge([SymlinkOutsideRoot("/etc/passwd")], ArtifactRef("x"))
    assert [f.rule_id for f in hits] == ["r-one"]
    assert rules.judge([SymlinkOutsideRoot("/home/x")], ArtifactRef("x")) == []
    shipped = load_rules().by_id["pickle-dangerous-import"]
    assert all(isinstance(p, GlobalPattern) for c in shipped.conditions for p in c.values)
