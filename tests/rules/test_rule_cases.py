"""Every rule in rules/ fires on its positive case and stays quiet on its near-miss.

The rules are discovered from rules/*.toml at collection time, so a new rule without cases in
fixtures/rule_cases/<rule-id>/ (built by fixtures/gen_rule_cases.py) fails here. Each case folder
is scanned once through the CLI (`mlsbom scan --format json`); a case's case.toml may name the
subfolder to scan, extra arguments, a policy file and FIFOs to make in a copy.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlsbom import _cli
from mlsbom.facts import Fact, FileChanged, FormatDetected, InternalError
from mlsbom.models import ArtifactRef, Format
from mlsbom.rules import load_rules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "fixtures" / "rule_cases"
GENERATOR = ROOT / "fixtures" / "gen_rule_cases.py"
RULE_IDS = sorted(p.stem for p in (ROOT / "rules").glob("*.toml"))
KINDS = ("positive", "near-miss")
CASE_KEYS = {"target", "args", "policy", "fifos"}

# Rules no scan through the CLI can trigger on purpose: judged from a hand-made fact instead.
# (positive facts, near-miss facts, why there is no case folder)
_CLEAN = FormatDetected(format=Format.JSON.value, runs_code=False, parent_runs_code=False)
EXEMPT: dict[str, tuple[tuple[Fact, ...], tuple[Fact, ...], str]] = {
    "internal-error": (
        (_CLEAN, InternalError("ValueError: boom")),
        (_CLEAN,),
        "needs a bug in an analyser; the engine turns the exception into this fact",
    ),
    "file-changed": (
        (_CLEAN, FileChanged("size changed while it was analysed")),
        (_CLEAN,),
        "needs the file to change between the walk, the analysis and the hash of one scan: a "
        "race (tests/test_file_guard.py makes it through engine hooks), not a folder",
    ),
}

# (rule id, kind) -> reason: a scanner gap these cases show, to be fixed in mlsbom, not here
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def _params(kind: str) -> list[object]:
    marks = {
        rule: pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[(rule, kind)])
        for rule in RULE_IDS
        if (rule, kind) in KNOWN_GAPS
    }
    return [pytest.param(rule, id=rule, marks=marks.get(rule, ())) for rule in RULE_IDS]


def _options(case: Path) -> dict[str, Any]:
    """case.toml: target (str), args (list of str), policy (str), fifos (list of str)."""
    path = case / "case.toml"
    if not path.is_file():
        return {}
    options = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(options) - CASE_KEYS
    assert not unknown, f"{path}: unknown keys {sorted(unknown)} (known: {sorted(CASE_KEYS)})"
    for key in ("args", "fifos"):
        value = options.get(key, [])
        assert isinstance(value, list) and all(isinstance(v, str) for v in value), (path, key)
    return options


class Scans:
    """Rule ids found per case folder, each folder scanned once (lazily, inside a test, so the
    conftest guard against deserialising is in place)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.rules = load_rules()
        self.found: dict[Path, set[str]] = {}

    def rule_ids(self, case: Path) -> set[str]:
        if case not in self.found:
            self.found[case] = self._scan(case)
        return self.found[case]

    def _scan(self, case: Path) -> set[str]:
        options = _options(case)
        fifos: list[str] = options.get("fifos", [])
        if fifos:  # git cannot hold a FIFO: make them in a copy
            if not hasattr(os, "mkfifo"):
                pytest.skip("FIFOs are POSIX")
            copy = self.scratch / case.parent.name / case.name
            shutil.copytree(case, copy, symlinks=True)
            case = copy
        target = case / options.get("target", ".")
        for name in fifos:
            os.mkfifo(target / name)
        args = [a.replace("{case}", str(case)) for a in options.get("args", [])]
        policy = options.get("policy")
        args += ["--policy", str(case / policy)] if policy else ["--no-policy"]
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_cli, "load_rules", lambda folder=None: self.rules)  # load once
            result = CliRunner().invoke(_cli.cli, ["scan", str(target), "--format", "json", *args])
        assert result.exit_code in (0, 1), f"{case}: exit {result.exit_code}\n{result.output}"
        doc = json.loads(result.stdout)
        return {f["rule_id"] for a in doc["artifacts"] for f in a["findings"]}


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scans]:
    yield Scans(tmp_path_factory.mktemp("rule-cases"))


def _case(rule: str, kind: str) -> Path:
    case = CASES / rule / kind
    assert case.is_dir(), (
        f"rule {rule} has no {kind} case: add one to fixtures/gen_rule_cases.py (pairs()) and "
        f"run `python fixtures/gen_rule_cases.py`, or, if no scan can trigger it, list it in "
        f"EXEMPT in {Path(__file__).name} with the reason"
    )
    return case


def _judged(facts: tuple[Fact, ...]) -> set[str]:
    return {f.rule_id for f in load_rules().judge(facts, ArtifactRef("exempt.json"))}


@pytest.mark.parametrize("rule", _params("positive"))
def test_rule_fires_on_its_positive_case(rule: str, scans: Scans) -> None:
    if rule in EXEMPT:
        assert rule in _judged(EXEMPT[rule][0])
        return
    found = scans.rule_ids(_case(rule, "positive"))
    assert rule in found, f"{rule} did not fire on its positive case; found {sorted(found)}"


@pytest.mark.parametrize("rule", _params("near-miss"))
def test_rule_stays_quiet_on_its_near_miss(rule: str, scans: Scans) -> None:
    if rule in EXEMPT:
        assert rule not in _judged(EXEMPT[rule][1])
        return
    found = scans.rule_ids(_case(rule, "near-miss"))
    assert rule not in found, f"{rule} fired on its near-miss; found {sorted(found)}"


def test_every_case_folder_names_a_rule() -> None:
    folders = sorted(p.name for p in CASES.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert [f for f in folders if f not in RULE_IDS] == [], "case folders of no rule in rules/"
    assert [r for r in EXEMPT if r in folders] == [], "exempt rules with cases: drop the exemption"
    assert set(EXEMPT) <= set(RULE_IDS), "exemptions of rules that no longer exist"
    for folder in folders:
        assert sorted(p.name for p in (CASES / folder).iterdir()) == sorted(KINDS), folder


def test_exemptions_stay_few() -> None:
    assert len(EXEMPT) <= 5


def _same_tree(a: Path, b: Path) -> list[str]:
    """Paths that differ between two trees (symlinks compared by their targets)."""
    diffs = []
    names = sorted(
        {p.relative_to(a) for p in a.rglob("*")} | {p.relative_to(b) for p in b.rglob("*")}
    )
    names = [n for n in names if not any(part.startswith(".") for part in n.parts)]
    for rel in names:
        x, y = a / rel, b / rel
        if x.is_symlink() or y.is_symlink():
            same = x.is_symlink() and y.is_symlink() and os.readlink(x) == os.readlink(y)
        elif x.is_dir() or y.is_dir():
            same = x.is_dir() and y.is_dir()
        else:
            same = x.is_file() and y.is_file() and filecmp.cmp(x, y, shallow=False)
        if not same:
            diffs.append(str(rel))
    return diffs


def test_generator_is_deterministic_and_was_run(tmp_path: Path) -> None:
    """Two runs give the same bytes, and those are the committed ones. HDF5 files are compared
    by name only: their bytes depend on the HDF5 library that h5py was built with."""
    pytest.importorskip("h5py")
    pytest.importorskip("onnx")
    for run in ("a", "b"):
        subprocess.run(
            [sys.executable, str(GENERATOR), str(tmp_path / run)], check=True, capture_output=True
        )
    assert _same_tree(tmp_path / "a" / "rule_cases", tmp_path / "b" / "rule_cases") == []
    stale = _same_tree(CASES, tmp_path / "a" / "rule_cases")
    assert [d for d in stale if not d.endswith(".h5")] == [], "run fixtures/gen_rule_cases.py"
