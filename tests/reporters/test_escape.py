"""Reports cannot be forged by what they report: hostile file names, member names and pickle
strings stay inert in text (terminal too), Markdown, JUnit, SARIF and JSON, and undecodable
names never stop a report from being written."""

from __future__ import annotations

import io
import json
import os
import re
import struct
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.policy import Policy, decide
from mlsbom.reporters import OutputFormat, reporter_for
from mlsbom.reporters.escape import md_code, printable, xml_text
from mlsbom.rules import load_rules

DATA = Path(__file__).resolve().parents[1] / "data"
# a string the pickle carries into evidence: terminal, XML, Markdown and line breakers
PAYLOAD = "echo ok\n\x1b[2J\x1b[32mPASS\u202e</failure>]]>\x00`|<b>x</b>\r\x0c"

NASTY_NAMES: list[bytes] = [
    b"evil\nPASS  fine.pkl",  # a forged report line
    b"\x1b[2J\x1b[32mclean.pkl",  # clears the screen, paints it green
    "invoice\u202egnp.pkl".encode(),  # bidi override: reads as "invoicelkp.png"
    b"latin1-\xe9\xff.pkl",  # not UTF-8
    b"a`` ``<img src=x onerror=alert(1)>|b.pkl",  # breaks code spans, HTML, table cells
    b"]]>&amp;\x01\x0b<!--.pkl",  # XML breakers and XML-illegal controls
    b"[red]rich[bold] @octo-org-team.pkl",  # rich markup, a GitHub mention
    "zero\u200bwidth\u2028sep\ufeff.pkl".encode(),  # zero-width, line separator, BOM
]


def _pickle(text: str) -> bytes:
    """A harmless malicious pickle: posix.system(text) (protocol 2, BINUNICODE argument)."""
    raw = text.encode("utf-8")
    return b"\x80\x02cposix\nsystem\nX" + struct.pack("<I", len(raw)) + raw + b"\x85R."


@pytest.fixture()
def hostile(tmp_path: Path) -> Path:
    root = tmp_path / "hostile"
    root.mkdir()
    for name in NASTY_NAMES:
        with open(os.path.join(os.fsencode(root), name), "wb") as f:
            f.write(_pickle(PAYLOAD))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("inner\n\x1b[0mFAKE`|<i>.pkl", _pickle(PAYLOAD))
        zf.writestr("\u202etxt.pkl", _pickle("echo ok"))
    (root / "archive.zip").write_bytes(buf.getvalue())
    source = f"import os\nos.system({PAYLOAD!r} + '\x1b[8m\u202e')  # \x1b]0;title\x07\n"
    (root / "modeling_x.py").write_text(source.replace("\\x1b", "\x1b"), encoding="utf-8")
    return root


def _render(target: Path, fmt: OutputFormat, **kwargs: object) -> str:
    rules = load_rules()
    result = scan([str(target)], ScanConfig(), rules, policy=Policy())
    return reporter_for(fmt, rules, **kwargs).render(result, decide(result, Policy()))  # type: ignore[arg-type]


_FORBIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _raw_specials(text: str, allowed: str = "\n") -> list[str]:
    return [c for c in text if c not in allowed and unicodedata.category(c) in _FORBIDDEN]


def test_printable_escapes_every_class() -> None:
    for raw, shown in [
        ("a\nb", "a\\x0ab"),
        ("\x1b[31m", "\\x1b[31m"),
        ("\u202e", "\\u202e"),
        ("\udcff", "\\xff"),
        ("\u2028", "\\u2028"),
        ("a\u3000b", "a\\u3000b"),
        ("\U000e0001", "\\U000e0001"),
        ("plain name.pkl", "plain name.pkl"),
        ("naïve-日本.pkl", "naïve-日本.pkl"),
    ]:
        assert printable(raw) == shown


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("verbosity", [0, 1])
def test_text_report_has_one_line_per_thing(hostile: Path, color: bool, verbosity: int) -> None:
    out = _render(hostile, OutputFormat.TEXT, color=color, verbosity=verbosity)
    if color:  # the only escape sequences are the reporter's own colours
        out = re.sub(r"\x1b\[(3[123]|0)m", "", out)
    assert not _raw_specials(out), _raw_specials(out)
    tags = [line for line in out.splitlines() if re.match(r"(FAIL|WARN|PASS) ", line)]
    assert len(tags) >= len(NASTY_NAMES) + 2  # every file and both members, one line each
    assert not any(line.startswith("PASS  fine.pkl") for line in out.splitlines())
    assert "evil\\x0aPASS  fine.pkl" in out and "latin1-\\xe9\\xff.pkl" in out
    assert "invoice\\u202egnp.pkl" in out and "inner\\x0a\\x1b[0mFAKE" in out
    assert "\\x1b[2J\\x1b[32mPASS\\u202e" in out  # the pickle's string, in evidence
    assert "python-script-call" in out  # source code evidence with raw escapes, shown escaped


def test_text_report_on_a_terminal_cli(hostile: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", str(hostile)], color=True)
    assert result.exit_code == 1, result.output
    assert not _raw_specials(result.stdout)


def _markdown_html(text: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return str(markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(text))


def test_markdown_has_no_markup_from_input(hostile: Path) -> None:
    text = _render(hostile, OutputFormat.MARKDOWN)
    assert not _raw_specials(text)
    html = _markdown_html(text)
    for tag in ("<img", "<b>", "<i>", "<!--.pkl", "</failure>"):
        assert tag not in html
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        assert row.count("<td") in (0, 2, 5), row  # no cell was added or lost
    assert "@octo-org-team" not in re.sub(r"<code>.*?</code>", "", html, flags=re.S)


@pytest.mark.parametrize(
    "content",
    ["`", "``", "a ` b", "``x``", "` leading", "trailing `", "|pipe|", "<b>", "\n"],
)
def test_markdown_code_span_cannot_be_broken(content: str) -> None:
    html = _markdown_html(f"| a |\n|---|\n| {md_code(content)} |\n")
    cell = re.search(r"<td>(.*?)</td>", html, re.S)
    assert cell is not None
    code = re.fullmatch(r"<code>(.*)</code>", cell.group(1), re.S)
    assert code is not None, cell.group(1)
    expected = printable(content).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert code.group(1).replace("&quot;", '"') == expected


def test_junit_is_valid_xml_with_every_name(hostile: Path) -> None:
    text = _render(hostile, OutputFormat.JUNIT)
    root = ET.fromstring(text.encode("utf-8"))
    names = {c.get("classname") for c in root.iter("testcase")}
    assert any("latin1-\\xe9\\xff.pkl" in (n or "") for n in names)
    assert any("evil\\x0aPASS" in (n or "") for n in names)
    assert len(root.findall(".//failure")) >= len(NASTY_NAMES) + 1
    lxml = pytest.importorskip("lxml.etree")
    schema = lxml.XMLSchema(lxml.parse(str(DATA / "junit-10.xsd")))
    doc = lxml.fromstring(text.encode("utf-8"))
    assert schema.validate(doc), schema.error_log


def test_xml_text_leaves_nothing_xml_forbids() -> None:
    every = "".join(chr(c) for c in range(0x20)) + "\ud800\udcff\ufffe\uffff\x7f\x85"
    out = xml_text(every)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", out)
    ET.fromstring(f"<a b='{out}'>{out}</a>")


@pytest.mark.parametrize("fmt", [OutputFormat.SARIF, OutputFormat.JSON])
def test_json_reports_are_utf8_and_escaped(hostile: Path, fmt: OutputFormat) -> None:
    text = _render(hostile, fmt)
    text.encode("utf-8")  # strict: no lone surrogates left
    doc = json.loads(text)
    dumped = json.dumps(doc, ensure_ascii=False)
    assert "latin1-\\\\xe9\\\\xff.pkl" in dumped or "latin1-%E9%FF.pkl" in dumped
    if fmt is OutputFormat.SARIF:
        uris = [
            loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in doc["runs"][0]["results"]
            for loc in r["locations"]
        ]
        assert any(u.endswith("latin1-%E9%FF.pkl") for u in uris)
        assert all(re.fullmatch(r"[A-Za-z0-9/%._~-]+", u) for u in uris), uris


def test_every_report_is_written_for_undecodable_names(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = ["scan", str(hostile), "-o", str(out / "report.txt")]
    for fmt in ("json", "sarif", "junit", "markdown"):
        args += [f"--{fmt}", str(out / f"report.{fmt}")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    for path in out.iterdir():
        path.read_text(encoding="utf-8")  # strict UTF-8
        assert path.stat().st_size > 200


def test_markdown_text_has_no_markup() -> None:
    from mlsbom.reporters.escape import md_text

    text = "see <b>x</b> [l](https://e.example) *em* _u_ `c` ![i](j) &amp; @team | ~~s~~ \\"
    html = _markdown_html(f"| a |\n|---|\n| {md_text(text)} |\n")
    cell = re.search(r"<td>(.*?)</td>", html, re.S)
    assert cell is not None
    assert not re.search(r"<(?!/?td)[a-z]", cell.group(1)), cell.group(1)
    assert "&lt;b&gt;" in cell.group(1) and "&amp;amp;" in cell.group(1)


def test_error_messages_escape_target_names(tmp_path: Path) -> None:
    name = str(tmp_path / "gone\n\x1b[32mPASS: all good\u202e")
    result = CliRunner().invoke(cli, ["scan", name])
    assert result.exit_code == 2
    assert not _raw_specials(result.stderr) and "gone\\x0a\\x1b[32mPASS" in result.stderr
