"""The pre-commit hook, run by the real pre-commit tool on a temporary git repository.

The hook definition comes from .pre-commit-hooks.yaml; the test runs it as a `local` hook with
`language: system` (the mlsbom under test), so pre-commit needs no network to build a hook env.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."

yaml = pytest.importorskip("yaml")
if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)


def _precommit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    cmd = [sys.executable, "-m", "pre_commit", *args]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    pytest.importorskip("pre_commit")
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "mlsbom" and hook["language"] == "python"
    assert hook["require_serial"] is True  # one process, one summary
    local = {**hook, "language": "system"}
    local.pop("minimum_pre_commit_version", None)
    repo = tmp_path / "registry"
    repo.mkdir()
    (repo / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]})
    )
    for cmd in (
        ["init", "-q"],
        ["config", "user.email", "t@example.invalid"],
        ["config", "user.name", "t"],
    ):
        subprocess.run(["git", *cmd], cwd=repo, check=True)
    return repo


def test_hook_passes_benign_and_blocks_malicious(repo: Path) -> None:
    (repo / "weights.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}              ")
    (repo / "config.json").write_text('{"model_type": "bert"}\n')
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    ok = _precommit(repo, "run")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (repo / "model.pkl").write_bytes(EVIL)
    subprocess.run(["git", "add", "model.pkl"], cwd=repo, check=True)
    bad = _precommit(repo, "run")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "pickle-dangerous-import" in bad.stdout and "model.pkl" in bad.stdout


def test_hook_receives_only_changed_files(repo: Path) -> None:
    (repo / "old.pkl").write_bytes(EVIL)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "old", "--no-verify"], cwd=repo, check=True)
    (repo / "new.json").write_text("{}\n")
    subprocess.run(["git", "add", "new.json"], cwd=repo, check=True)
    result = _precommit(repo, "run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "old.pkl" not in result.stdout


def _summaries(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("PASS:", "FAIL:"))]


def test_project_scripts_pass_and_loader_code_is_scanned(repo: Path) -> None:
    (repo / "train.py").write_text("import subprocess\nsubprocess.run(['echo', 'train'])\n")
    (repo / "tools").mkdir()
    (repo / "tools" / "deploy.py").write_text("import os\nos.system('echo deploy')\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    ok = _precommit(repo, "run")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    model = repo / "model"
    model.mkdir()
    (model / "config.json").write_text('{"auto_map": {"AutoModel": "modeling_evil.Evil"}}\n')
    (model / "modeling_evil.py").write_text("import os\nos.system('echo mlsbom-fixture')\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "m", "--no-verify"], cwd=repo, check=True)
    (model / "modeling_evil.py").write_text("import os\nos.system('echo mlsbom-fixture 2')\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    bad = _precommit(repo, "run")  # only the module changed: the config beside it names it
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "python-process" in bad.stdout and "modeling_evil.py" in bad.stdout
    assert "train.py" not in bad.stdout


def test_one_hook_run_prints_one_summary(repo: Path) -> None:
    for i in range(60):
        (repo / f"shard-{i:02}-{'x' * 60}.json").write_text("{}\n")
    (repo / "model.pkl").write_bytes(EVIL)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    result = _precommit(repo, "run", "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(_summaries(result.stdout)) == 1, result.stdout
    assert "PASS " not in result.stdout  # passing files are counted, not listed
