"""JUnit, Markdown and RULES.md outputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.rules import load_rules
from mlsbom.rules_doc import render_rules_markdown

ROOT = Path(__file__).resolve().parent.parent
EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."


def _scan(tmp_path: Path, fmt: str) -> str:
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    (tmp_path / "config.json").write_text("{}")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--format", fmt])
    assert result.exit_code == 1
    return result.stdout


def test_junit_one_case_per_artefact(tmp_path: Path) -> None:
    root = ET.fromstring(_scan(tmp_path, "junit"))
    cases = root.findall(".//testcase")
    assert len(cases) == 2
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1 and failed[0].get("name", "").endswith("evil.pkl")
    assert root.get("failures") == "1"


def test_markdown_summary(tmp_path: Path) -> None:
    text = _scan(tmp_path, "markdown")
    assert text.startswith("## ❌ mlsbom failed")
    assert "`pickle-dangerous-import`" in text and "| critical | 1 |" in text


def test_rules_md_is_current() -> None:
    expected = render_rules_markdown(load_rules())
    assert (ROOT / "RULES.md").read_text() == expected, "run: mlsbom rules doc -o RULES.md"
