"""`mlsbom diff` and `scan --baseline`: what a change adds, keyed the same way in both."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from mlsbom._cli import cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DEMO = FIXTURES / "demo"
FULL = FIXTURES / "sbom" / "full"
EVIL = b"cposix\nsystem\n(S'echo mlsbom-fixture'\ntR."


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.stdout, res.stderr


def bom_of(target: Path, out: Path) -> Path:
    code, _, err = run("sbom", str(target), "-o", str(out))
    assert code == 0, err
    return out


def test_identical_models_in_two_folders_have_no_changes(tmp_path: Path) -> None:
    shutil.copytree(FULL, tmp_path / "v1")
    shutil.copytree(FULL, tmp_path / "v2")
    code, out, _ = run("diff", str(tmp_path / "v1"), str(tmp_path / "v2"))
    assert (code, out) == (0, "no changes\n")


def test_diff_of_two_boms_reports_every_kind_of_change(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(FULL, old)
    shutil.copytree(FULL, new)
    (new / "extra.pkl").write_bytes(EVIL)  # a new file that runs code, with a critical finding
    weights = next(p for p in sorted(new.iterdir()) if p.suffix == ".safetensors")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    readme = new / "README.md"
    readme.write_text(readme.read_text().replace("license: mit", "license: apache-2.0"))
    a = bom_of(old, tmp_path / "old.json")
    b = bom_of(new, tmp_path / "new.json")
    code, out, err = run("diff", str(a), str(b), "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    kinds = {(c["kind"], c["subject"]) for c in doc["changes"]}
    assert ("added", "extra.pkl") in kinds
    assert ("runs-code", "extra.pkl") in kinds
    assert ("digest", weights.name) in kinds
    assert ("finding", "extra.pkl") in kinds
    assert ("licence", "model") in kinds
    assert doc["passed"] is False
    code, out, _ = run("diff", str(b), str(a))
    assert code == 0 and "removed" in out and "finding-removed" in out


def test_diff_rejects_what_is_not_a_bom(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    assert run("diff", str(bad), str(bad))[0] == 2


def test_baseline_fails_only_on_new_findings(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(DEMO, repo)
    assert run("scan", str(repo))[0] == 1  # the demo's known injected checkpoint
    base = tmp_path / "base.json"
    code, _, err = run("scan", str(repo), "--sbom", str(base))
    assert code == 1, err
    code, out, err = run("scan", str(repo), "--baseline", str(base))
    assert code == 0, out + err
    assert "already in the baseline" in err
    (repo / "new.pkl").write_bytes(EVIL)
    code, out, _ = run("scan", str(repo), "--baseline", str(base))
    assert code == 1 and "new.pkl" in out
    assert "pickle-dangerous-import" not in out.split("new.pkl")[0]  # the known one stays quiet
