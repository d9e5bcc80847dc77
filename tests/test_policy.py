"""Policy files: discovery, waivers with expiry, format allow/deny, strict validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.errors import PolicyError
from mlsbom.policy import decide
from mlsbom.policy_file import discover, load_policy
from mlsbom.rules import load_rules

EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."
ODD = b"\x80\x04\x8c\x08mystery_\x8c\x03fun\x93)R."


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    models = tmp_path / "models"
    models.mkdir()
    (models / "odd.pkl").write_bytes(ODD)
    return tmp_path


def _decide(target: Path, policy_text: str, tmp_path: Path, today: dt.date | None = None):  # type: ignore[no-untyped-def]
    policy_file = tmp_path / "p.toml"
    policy_file.write_text(policy_text)
    rules = load_rules()
    policy = load_policy(policy_file, rules)
    result = scan([str(target)], ScanConfig(), rules, policy=policy, today=today)
    return result, decide(result, policy)


def test_waiver_suppresses_until_it_expires(repo: Path, tmp_path: Path) -> None:
    text = (
        '[[waivers]]\nrule = "pickle-unknown-import"\npath = "*/models/odd.pkl"\n'
        'reason = "our own helper class"\nexpires = 2030-01-01\n'
    )
    result, decision = _decide(repo, text, tmp_path, today=dt.date(2029, 12, 31))
    assert decision.passed
    assert any(f.waived for f in result.findings)
    result, decision = _decide(repo, text, tmp_path, today=dt.date(2030, 1, 2))
    assert not decision.passed
    assert {f.rule_id for f in decision.violations} == {
        "pickle-unknown-import",
        "policy-waiver-expired",
    }


def test_formats_deny_pickle(repo: Path, tmp_path: Path) -> None:
    (repo / "models" / "odd.pkl").write_bytes(b"\x80\x04]\x94.")
    _, decision = _decide(repo, '[formats]\ndeny = ["pickle"]\n', tmp_path)
    assert [f.rule_id for f in decision.violations] == ["policy-format"]


def test_formats_allow_list(repo: Path, tmp_path: Path) -> None:
    (repo / "models" / "odd.pkl").write_bytes(b"\x80\x04]\x94.")
    _, decision = _decide(repo, '[formats]\nallow = ["safetensors", "text"]\n', tmp_path)
    assert [f.rule_id for f in decision.violations] == ["policy-format"]


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sbom"


@pytest.mark.parametrize(
    ("repo_name", "policy_text", "passes"),
    [
        ("full", '[licenses]\nallow = ["MIT"]\n', True),
        ("full", '[licenses]\ndeny = ["mit"]\n', False),
        ("licence_other", '[licenses]\nallow = ["MIT"]\n', False),
        ("licence_other", '[licenses]\nallow = ["acme-research-only"]\n', True),
        ("licence_expression", '[licenses]\ndeny = ["MIT"]\n', True),  # Apache-2.0 remains
        ("licence_expression", '[licenses]\nallow = ["GPL-3.0-only"]\n', False),
        ("malformed_yaml", '[licenses]\nallow = ["MIT"]\n', False),  # unknown fails closed
        ("malformed_yaml", '[licenses]\ndeny = ["MIT"]\n', True),
    ],
)
def test_licence_lists(repo_name: str, policy_text: str, passes: bool, tmp_path: Path) -> None:
    _, decision = _decide(FIXTURES / repo_name, policy_text, tmp_path)
    assert decision.passed is passes
    if not passes:
        assert {f.rule_id for f in decision.violations} == {"policy-license"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "[[waivers]]\nrule = 'pickle-format'\npath = '*'\nexpires = 2030-01-01\n",
            "missing reason",
        ),
        ("[[waivers]]\nrule = 'pickle-format'\npath = '*'\nreason = 'x'\n", "missing expires"),
        (
            "[[waivers]]\nrule = 'nope'\npath = '*'\nreason = 'x'\nexpires = 2030-01-01\n",
            "unknown rule id",
        ),
        (
            "[[waivers]]\nrule = 'pickle-format'\npath = '*'\nreason = 'x'\nexpires = 'soon'\n",
            "TOML date",
        ),
        ("[rules]\nseverity = { nope = 'low' }\n", "unknown rule id"),
        ("[formats]\ndeny = ['pickel']\n", "unknown format"),
        ("[licenses]\nallowed = []\n", "unknown key"),
        ("[licenses]\nallow = ['MIT OR Apache-2.0']\n", "is an expression"),
        ("[licenses]\ndeny = 'MIT'\n", "must be a list"),
    ],
)
def test_bad_policies_say_where_and_how(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / ".mlsbom.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(path, load_rules())
    message = info.value.diagnostics()
    assert needle in message and str(path) in message and "hint:" in message


def test_discovery_from_cwd_stops_at_repo_root(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / ".mlsbom.toml").write_text('fail_on = "critical"\n')
    monkeypatch.chdir(repo / "models")
    assert discover() == (repo / ".mlsbom.toml").resolve()
    result = CliRunner().invoke(cli, ["scan", "."])
    assert result.exit_code == 0  # the unknown import is high; the repo's policy fails on critical
    result = CliRunner().invoke(cli, ["scan", ".", "--no-policy"])
    assert result.exit_code == 1


def test_policy_inside_a_scanned_download_is_ignored(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    download = tmp_path / "download"
    download.mkdir()
    (download / ".mlsbom.toml").write_text('[rules]\ndisable = ["pickle-dangerous-import"]\n')
    (download / "evil.pkl").write_bytes(EVIL)
    monkeypatch.chdir(repo)
    assert CliRunner().invoke(cli, ["scan", str(download)]).exit_code == 1


def test_pyproject_discovery(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.mlsbom]\nfail_on = "low"\n')
    monkeypatch.chdir(repo)
    assert discover() == (repo / "pyproject.toml").resolve()
