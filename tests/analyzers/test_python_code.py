"""Repository-level code: Python, notebooks, chat templates, remote code, native code, LFS stubs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsbom.analyzers.chat_templates import template_facts
from mlsbom.analyzers.notebooks import cell_facts
from mlsbom.analyzers.python_code import python_facts
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.facts import RemoteCode
from mlsbom.models import Severity
from mlsbom.policy import Policy, apply, decide
from mlsbom.rules import load_rules

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))
import gen_repo_code  # noqa: E402

LISTS = load_rules().lists

EXPECTED = gen_repo_code.EXPECTED


def _scan(path: Path):  # type: ignore[no-untyped-def]
    return scan([str(path)], ScanConfig())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_expectation(name: str) -> None:
    result = _scan(FIXTURES / "repo_code" / name)
    decision = decide(result, Policy())
    expected = EXPECTED[name]
    if expected is None:
        assert [f for f in result.findings if f.severity >= Severity.MEDIUM] == []
        return
    rule_id, fails = expected
    assert rule_id in {f.rule_id for f in result.findings}
    assert decision.passed is not fails


REAL_TEMPLATES = sorted((FIXTURES / "repo_code_real").glob("*.jinja"))


@pytest.mark.parametrize("path", REAL_TEMPLATES, ids=lambda p: p.stem)
def test_real_chat_templates_pass(path: Path) -> None:
    result = _scan(path)
    assert result.artifacts[0].format.value == "chat-template"
    assert result.findings == ()


def test_remote_code_module_present_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"auto_map": {"AutoModel": "modeling_x.XModel"}}')
    assert "remote-code-missing" in {f.rule_id for f in _scan(tmp_path).findings}
    (tmp_path / "modeling_x.py").write_text("class XModel:\n    pass\n")
    for target in (tmp_path, tmp_path / "config.json"):  # a folder, or the config alone
        rules = {f.rule_id for f in _scan(target).findings}
        assert "remote-code-required" in rules and "remote-code-missing" not in rules


def test_remote_code_names_modules_and_other_repos() -> None:
    facts = [
        f
        for a in _scan(FIXTURES / "repo_code" / "remote").artifacts
        for f in a.facts
        if isinstance(f, RemoteCode)
    ]
    assert {f.module for f in facts} == {"configuration_tiny", "modeling_tiny"}
    other = [
        f
        for a in _scan(FIXTURES / "repo_code" / "remote_other").artifacts
        for f in a.facts
        if isinstance(f, RemoteCode)
    ]
    assert [(f.other_repo, f.module) for f in other] == [("attacker/helpers", "modeling_x")]


def test_policy_can_allow_a_repository_remote_code(tmp_path: Path) -> None:
    target = FIXTURES / "repo_code" / "remote"
    policy = Policy(remote_code_allowed=(f"{target}/*",))
    result = apply(_scan(target), policy)
    assert decide(result, policy).passed
    assert all(f.waived for f in result.findings if f.rule_id.startswith("remote-code"))


def test_tokenizer_chat_templates_become_children() -> None:
    result = _scan(FIXTURES / "repo_code" / "tpl" / "tokenizer_config.json")
    members = {a.ref.member_chain for a in result.artifacts}
    assert ("chat_template[default]",) in members
    bad = [a for a in result.artifacts if a.ref.member_chain == ("chat_template[tool_use]",)]
    assert bad[0].worst == Severity.CRITICAL


def test_locations_name_lines_and_cells() -> None:
    result = _scan(FIXTURES / "repo_code" / "py" / "subprocess_in_forward.py")
    # the import names the callable (a reference), the call in forward uses it
    assert [f.location.detail for f in result.findings] == ["line 1", "line 5"]
    result = _scan(FIXTURES / "repo_code" / "nb" / "curl_sh.ipynb")
    assert result.findings[0].location.detail == "cell 0, line 1"


def test_benign_modeling_code_has_no_facts_worth_a_finding() -> None:
    source = (FIXTURES / "repo_code" / "benign" / "modeling_tiny.py").read_text()
    kinds = [type(f).__name__ for f in python_facts(source, LISTS)]
    assert kinds == ["PythonObfuscation", "PythonLocalImports"]  # getattr(nn, …); ./configuration


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_parsers_never_raise_on_arbitrary_text(text: str) -> None:
    template_facts(text, LISTS)
    python_facts(text, LISTS)
    cell_facts(text, 0, LISTS)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "{{",
                "}}",
                "{%",
                "%}",
                "__class__",
                "|attr(",
                "'_'",
                "~",
                ")",
                "(",
                "x",
                ".",
                "[",
                "]",
            ]
        ),
        max_size=40,
    )
)
def test_template_parser_on_template_fragments(parts: list[str]) -> None:
    template_facts("".join(parts), LISTS)


def test_scanned_text_warnings_do_not_reach_our_output(tmp_path: Path) -> None:
    """Invalid escapes in scanned code, .npy headers, protocol-0 pickle strings (both found by
    fuzzing) and chat templates make Python or Jinja warn at parse time; that is not our stderr."""
    import warnings

    header = b"{'descr': '\\o', 'fortran_order': False, 'shape': (), }"
    files = {
        "code.py": b'path = "C:\\mlsbom\\data"\n',
        "array.npy": b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header,
        "chat.jinja": b"{{ '\\p' }}",
        "p0.pkl": b"cnt\nsystem\n(S'\\echo mlsbom-fixture'\ntR.",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = scan([str(tmp_path)], ScanConfig())
    assert seen == []
    assert len(result.artifacts) == 4
    found = [f.rule_id for a in result.artifacts for f in a.findings]
    assert "pickle-dangerous-import" in found
