"""Regenerating the pure-Python fixtures reproduces the committed bytes exactly; the demo works."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.policy import Policy, decide

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _same_tree(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b)
    diffs = [*cmp.left_only, *cmp.right_only]
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    diffs += mismatch + errors
    for sub in cmp.common_dirs:
        diffs += [f"{sub}/{d}" for d in _same_tree(a / sub, b / sub)]
    return diffs


def test_pure_fixtures_regenerate_identically(tmp_path: Path) -> None:
    pytest.importorskip("lz4")
    shutil.copytree(FIXTURES / "benign", tmp_path / "benign")
    subprocess.run(
        [sys.executable, str(FIXTURES / "generate.py"), "--pure", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for folder in (
        "malicious",
        "malformed",
        "demo",
        "sbom",
        "repo_code",
        "weights",
        "containers",
        "code_paths",
    ):
        assert _same_tree(FIXTURES / folder, tmp_path / folder) == [], folder


def test_demo_fails_only_on_the_injected_checkpoint() -> None:
    result = scan([str(FIXTURES / "demo")], ScanConfig())
    decision = decide(result, Policy())
    assert not decision.passed
    assert {f.artifact.path.rsplit("/", 1)[-1] for f in decision.violations} == {
        "pytorch_model.bin"
    }
