"""JUnit, Markdown, text and RULES.md outputs."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.rules import load_rules
from mlsbom.rules_doc import render_rules_markdown

ROOT = Path(__file__).resolve().parents[2]
XSD = ROOT / "tests" / "data" / "junit-10.xsd"
EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."
SAFE = b"\x10\x00\x00\x00\x00\x00\x00\x00{}              "  # an empty safetensors file


def _scan(target: Path, *args: str, code: int = 1) -> str:
    result = CliRunner().invoke(cli, ["scan", str(target), *args])
    assert result.exit_code == code, result.output
    return result.stdout


def _zip_with_evil() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("inner/evil.pkl", EVIL)
    return buf.getvalue()


@pytest.fixture()
def target(tmp_path: Path) -> Path:
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "bundle.zip").write_bytes(_zip_with_evil())
    (tmp_path / "waived.pkl").write_bytes(EVIL)
    (tmp_path / ".mlsbom.toml").write_text(
        '[[waivers]]\nrule = "pickle-dangerous-import"\npath = "*/waived.pkl"\n'
        'reason = "vendored test vector, never loaded"\nexpires = 2999-01-01\n'
    )
    return tmp_path


def _junit(target: Path) -> ET.Element:
    text = _scan(target, "--format", "junit", "--policy", str(target / ".mlsbom.toml"))
    lxml = pytest.importorskip("lxml.etree")
    schema = lxml.XMLSchema(lxml.parse(str(XSD)))
    assert schema.validate(lxml.fromstring(text.encode())), schema.error_log
    return ET.fromstring(text)


def test_junit_every_finding_members_too_and_waivers_skipped(target: Path) -> None:
    root = _junit(target)
    cases = root.findall(".//testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    failing_classes = {c.get("classname", "") for c in failed}
    assert any(c.endswith("evil.pkl") and ">" not in c for c in failing_classes)
    assert any(c.endswith("bundle.zip > inner/evil.pkl") for c in failing_classes)
    skipped = [c.find("skipped") for c in cases if c.find("skipped") is not None]
    assert len(skipped) == 1 and skipped[0] is not None
    assert "vendored test vector, never loaded" in skipped[0].get("message", "")
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("failures") == str(len(failed)) and suite.get("skipped") == "1"
    assert suite.get("tests") == str(len(cases))
    clean = [c for c in cases if c.get("classname", "").endswith("config.json")]
    assert len(clean) == 1 and clean[0].get("name") == "no findings" and not list(clean[0])


def test_junit_below_the_gate_is_not_a_failure(target: Path) -> None:
    root = _junit(target)
    low = [c for c in root.iter("testcase") if c.get("name") == "pickle-format"]
    assert low and all(c.find("failure") is None for c in low)
    assert all("below the gate" in (c.findtext("system-out") or "") for c in low)


def test_junit_schema_is_strict() -> None:
    """The schema in tests/data rejects what CI servers reject (it is not a no-op)."""
    lxml = pytest.importorskip("lxml.etree")
    schema = lxml.XMLSchema(lxml.parse(str(XSD)))
    bad = [
        "<testsuites><testsuite name='x' tests='1'><testcase name='a'/></testsuite></testsuites>",
        "<testsuites><testsuite name='x' tests='1' failures='0' errors='0'>"
        "<testcase name='a'><failure/><skipped/></testcase></testsuite></testsuites>",
        "<testsuites><testsuite name='x' tests='1' failures='0' errors='0'>"
        "<testcase/></testsuite></testsuites>",
    ]
    for text in bad:
        assert not schema.validate(lxml.fromstring(text)), text


def test_markdown_summary(target: Path) -> None:
    text = _scan(target, "--format", "markdown")
    assert text.startswith("<!-- mlsbom-report -->\n## ❌ mlsbom failed")
    assert "`pickle-dangerous-import`" in text and "| critical | 3 |" in text
    assert "6 artefacts scanned" in text


def test_singular_artefact(tmp_path: Path) -> None:
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    assert "FAIL: 1 artefact:" in _scan(tmp_path / "evil.pkl")
    assert "1 artefact scanned" in _scan(tmp_path / "evil.pkl", "--format", "markdown")


@pytest.fixture()
def big_folder(tmp_path: Path) -> Path:
    for i in range(200):
        (tmp_path / f"shard-{i:03}.safetensors").write_bytes(SAFE)
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    (tmp_path / "legacy.pkl").write_bytes(b"\x80\x04K\x01.")
    return tmp_path


def test_text_200_files_fit_on_a_screen(big_folder: Path) -> None:
    out = _scan(big_folder)
    lines = out.splitlines()
    assert len(lines) < 40, out
    assert not any(line.startswith("PASS") for line in lines)
    assert any(
        line.startswith("FAIL") and line.endswith("evil.pkl  [pickle, 38 bytes]") for line in lines
    )
    assert any(line.startswith("WARN") and "legacy.pkl" in line for line in lines)
    assert "findings: 1 critical, 2 low" in out
    assert "failing file:\n  " in out and lines[-1].startswith("FAIL: 202 artefacts: 1 failed")
    assert "200 passed (passing ones not listed: --verbose)" in lines[-1]


def test_text_verbose_lists_every_pass_and_quiet_only_the_verdict(big_folder: Path) -> None:
    verbose = _scan(big_folder, "--verbose").splitlines()
    assert sum(line.startswith("PASS") for line in verbose) == 200
    quiet = _scan(big_folder, "--quiet")
    assert quiet.count("\n") == 1 and quiet.startswith("FAIL: 202 artefacts")
    assert CliRunner().invoke(cli, ["scan", str(big_folder), "-q", "-v"]).exit_code == 2


def test_rules_md_is_current() -> None:
    expected = render_rules_markdown(load_rules())
    assert (ROOT / "RULES.md").read_text() == expected, "run: mlsbom rules doc -o RULES.md"


def test_json_carries_the_waiver_reason(target: Path) -> None:
    import json

    doc = json.loads(_scan(target, "--format", "json", "--policy", str(target / ".mlsbom.toml")))
    waived = [f for a in doc["artifacts"] for f in a["findings"] if f["waived"]]
    assert len(waived) == 1
    assert waived[0]["waiver_reason"].startswith("vendored test vector, never loaded")
    assert all(
        "waiver_reason" not in f for a in doc["artifacts"] for f in a["findings"] if not f["waived"]
    )


def test_text_header_counts_many_targets(big_folder: Path) -> None:
    files = sorted(str(p) for p in big_folder.iterdir())
    result = CliRunner().invoke(cli, ["scan", *files])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].endswith(": 202 targets")
