"""The GitHub Action (action.yml): its structure, and its scan step run by bash in a fake runner."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")
if shutil.which("bash") is None:
    pytest.skip("bash is not installed", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."
SAFE = b"\x10\x00\x00\x00\x00\x00\x00\x00{}              "


def _action() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return doc


def _step(step_id: str) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in _action()["runs"]["steps"] if s.get("id") == step_id)
    return step


def test_every_used_action_is_pinned_to_a_commit() -> None:
    uses = [s["uses"] for s in _action()["runs"]["steps"] if "uses" in s]
    assert uses, "the action uploads SARIF and comments with pinned actions"
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref


def test_inputs_are_passed_through_env_never_into_the_script() -> None:
    for step in _action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]


def test_upload_and_comment_run_only_when_their_file_exists() -> None:
    steps = {s["name"]: s for s in _action()["runs"]["steps"]}
    upload = next(s for n, s in steps.items() if "SARIF" in n)
    assert "steps.scan.outputs.sarif != ''" in upload["if"] and "always()" in upload["if"]
    comment = next(s for n, s in steps.items() if "Comment" in n)
    assert "steps.scan.outputs.markdown != ''" in comment["if"]
    assert "inputs.pr-comment == 'true'" in comment["if"]
    script = comment["with"]["script"]
    assert "updateComment" in script and "<!-- mlsbom-report -->" in script


def test_install_uses_its_own_virtual_environment() -> None:
    run = _step("install")["run"]
    assert "python3 -m venv" in run and '"$venv/bin/python" -m pip install' in run


class Runner:
    """A fake GitHub runner: the files and variables the scan step uses."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.temp = tmp / "runner-temp"
        self.temp.mkdir()
        self.output = tmp / "github-output"
        self.summary = tmp / "step-summary"
        for f in (self.output, self.summary):
            f.write_text("")

    def run(self, **inputs: str) -> subprocess.CompletedProcess[str]:
        step = _step("scan")
        env = {k: "" for k in step["env"]}
        env.update(inputs)
        env["MLSBOM"] = str(Path(sys.executable).parent / "mlsbom")
        env.update(
            PATH=os.environ["PATH"],
            HOME=str(self.tmp),
            RUNNER_TEMP=str(self.temp),
            GITHUB_OUTPUT=str(self.output),
            GITHUB_STEP_SUMMARY=str(self.summary),
        )
        return subprocess.run(
            ["bash", "-c", step["run"]],
            cwd=self.tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def outputs(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.output.read_text().splitlines())


@pytest.fixture()
def runner(tmp_path: Path) -> Runner:
    if not (Path(sys.executable).parent / "mlsbom").exists():
        pytest.skip("the mlsbom console script is not installed beside this Python")
    return Runner(tmp_path)


def test_targets_with_spaces_and_every_output_from_one_scan(runner: Runner) -> None:
    models = runner.tmp / "my models"
    models.mkdir()
    (models / "weights.safetensors").write_bytes(SAFE)
    other = runner.tmp / "second dir"
    other.mkdir()
    (other / "evil copy.pkl").write_bytes(EVIL)
    done = runner.run(
        TARGETS=f"{models}\n  {other}  \n\n",
        SARIF="out.sarif",
        JUNIT="out.xml",
        JSON="out.json",
        REQUIRE_SIGNATURE="false",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "evil copy.pkl" in done.stdout and "FAIL:" in done.stdout
    outputs = runner.outputs()
    assert outputs["exit-code"] == "1" and outputs["sarif"] == "out.sarif"
    for name in ("out.sarif", "out.xml", "out.json"):
        assert (runner.tmp / name).stat().st_size > 100
    assert "mlsbom failed" in runner.summary.read_text()
    token = re.search(r"^::stop-commands::(\S+)$", done.stdout, re.M)
    assert token and f"\n::{token.group(1)}::\n" in done.stdout


def test_a_tool_error_fails_the_step_with_its_message(runner: Runner) -> None:
    done = runner.run(TARGETS=str(runner.tmp / "no such folder"), SARIF="out.sarif")
    assert done.returncode == 2
    assert re.search(
        r"^::error title=mlsbom could not scan::error: target not found", done.stdout, re.M
    )
    outputs = runner.outputs()
    assert outputs["exit-code"] == "2" and "sarif" not in outputs


def test_a_passing_scan_without_sarif(runner: Runner) -> None:
    (runner.tmp / "w.safetensors").write_bytes(SAFE)
    done = runner.run(TARGETS="w.safetensors")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sarif" not in runner.outputs() and "mlsbom passed" in runner.summary.read_text()
