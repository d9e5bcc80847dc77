"""Every artefact knows the scan target it was reached from (`ArtifactRef.target`).

Which target an artefact belongs to used to be guessed from its path (`path.startswith(target
+ "/")`). That guess holds for targets that merely share a prefix (`models/a`, `models/ab`) but
not for overlapping ones (`models` and `models/a`: the file `models/a/x` is walked once from each)
nor for a target named twice. These tests pin the behaviour for all three in the SBOM, the
licence policy, the empty-folder check and the reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.models import ArtifactRef, ArtifactResult, Format
from mlsbom.serial import dump, load_results
from mlsbom.walk import walk


def _card(folder: Path, license_id: str) -> None:
    (folder / "README.md").write_text(f"---\nlicense: {license_id}\n---\n# model\n")


@pytest.fixture()
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """models/ (MIT card), models/a (no card), models/ab (GPL card), models/empty (nothing)."""
    root = tmp_path / "models"
    for name in ("a", "ab", "empty"):
        (root / name).mkdir(parents=True)
    _card(root, "mit")
    (root / "a" / "config.json").write_text('{"model_type": "bert"}')
    (root / "ab" / "config.json").write_text('{"model_type": "gpt2"}')
    _card(root / "ab", "gpl-3.0")
    (tmp_path / "policy.toml").write_text('[licenses]\ndeny = ["gpl-3.0"]\n')
    monkeypatch.chdir(tmp_path)
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _bom_files(*targets: str) -> dict[str, list[str]]:
    """Model name -> the names of the file components the BOM nests in it."""
    code, out, err = run("sbom", "--no-policy", *targets)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    models = [doc["metadata"]["component"]] if len(targets) == 1 else doc["components"]
    return {
        m["name"]: sorted(f["name"] for f in m.get("components", []))
        for m in models
        if m["type"] == "machine-learning-model"
    }


def test_walk_sets_the_target_as_given(models: Path) -> None:
    for target in ("models", "models/", "./models/a", str(models / "ab" / "config.json")):
        refs = [item.ref for item in walk(target)]
        assert refs and {r.target for r in refs} == {target}
    ref = ArtifactRef("m.zip", (), "models").child("data.pkl").child("inner")
    assert ref.target == "models" and ref.parent(1) == ArtifactRef("m.zip", ("data.pkl",), "models")


def test_targets_sharing_a_prefix_are_told_apart_in_the_sbom(models: Path) -> None:
    assert _bom_files("models/a", "models/ab") == {
        "a": ["config.json"],
        "ab": ["README.md", "config.json"],
    }


def test_overlapping_targets_each_keep_their_files_in_the_sbom(models: Path) -> None:
    """Guessing by prefix gave every file to `models` and left `models/a` empty."""
    whole = ["README.md", "a/config.json", "ab/README.md", "ab/config.json"]
    for order in (("models", "models/a"), ("models/a", "models")):
        assert _bom_files(*order) == {"models": whole, "a": ["config.json"]}


def test_a_target_named_twice_is_scanned_once(models: Path) -> None:
    result = scan(["models/a", "models/a"], ScanConfig())
    assert result.targets == ("models/a",)
    assert [a.ref.path for a in result.artifacts] == ["models/a/config.json"]
    code, out, _ = run("sbom", "--no-policy", "models/a", "models/a")
    assert code == 0 and "#2" not in out  # one model, not a second, empty one


def _licence_findings(*targets: str) -> list[tuple[str, str]]:
    code, out, err = run("scan", "--policy", "policy.toml", "--format", "json", *targets)
    assert code in (0, 1), err
    doc = json.loads(out)
    return [
        (a["target"], a["path"])
        for a in doc["artifacts"]
        for f in a["findings"]
        if f["rule_id"] == "policy-license"
    ]


def test_licences_are_judged_per_target(models: Path) -> None:
    """`models` declares MIT at its root; only `models/ab` declares the denied GPL. Its card is
    walked from both targets: the finding belongs to the copy reached from `models/ab` alone
    (by path the two copies were one, and both got the finding)."""
    gpl = ("models/ab", "models/ab/README.md")
    assert _licence_findings("models/a", "models/ab") == [gpl]
    assert _licence_findings("models", "models/ab") == [gpl]
    assert _licence_findings("models/ab", "models") == [gpl]
    assert _licence_findings("models") == []


def test_empty_folder_is_found_among_targets_sharing_a_prefix(models: Path) -> None:
    (models / "emp").mkdir()
    (models / "empty2").mkdir()
    (models / "empty2" / "w.json").write_text("{}")
    for targets in (("models/empty", "models/empty2"), ("models", "models/empty")):
        code, _, err = run("scan", "--no-policy", *targets)
        assert code == 2 and "nothing to scan in models/empty:" in err
    assert run("scan", "--no-policy", "models/empty2", "models/a")[0] == 0


def test_json_report_names_each_artefacts_target(models: Path) -> None:
    code, out, _ = run("scan", "--no-policy", "--format", "json", "models", "models/a")
    assert code == 0
    doc = json.loads(out)
    pairs = [(a["path"], a["target"]) for a in doc["artifacts"]]
    assert pairs.count(("models/a/config.json", "models")) == 1
    assert pairs.count(("models/a/config.json", "models/a")) == 1
    assert {t for _, t in pairs} == set(doc["targets"])
    assert pairs == sorted(pairs)  # path first; the target only breaks ties


def test_serialised_results_keep_the_target() -> None:
    ref = ArtifactRef("models/a/m.zip", ("data.pkl",), "models")
    [back] = load_results(dump([ArtifactResult(ref, Format.PICKLE, 3, (), ())]))
    assert back.ref == ref
    legacy = dump([ArtifactResult(ArtifactRef("x"), Format.PICKLE, 3, (), ())])
    del legacy[0]["ref"]["target"]
    assert load_results(legacy)[0].ref == ArtifactRef("x", (), "")


def test_signature_properties_do_not_depend_on_how_the_target_is_spelt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A signature's `covers` is a file system path (`Path(target)`: `./m/` is `m`), an
    artefact's path is displayed as the target was given: they are compared as paths."""
    repo = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(repo)
    folder = "fixtures/signing_interop/generated/v0.2.0-key"

    def statuses(target: str) -> dict[str, list[str]]:
        code, out, err = run("sbom", "--no-policy", target)
        assert code == 0, err
        files = json.loads(out)["metadata"]["component"]["components"]
        return {
            c["name"]: [p["value"] for p in c["properties"] if p["name"].startswith("mlsbom:sig")]
            for c in files
        }

    plain = statuses(folder)
    assert plain["signme-1"] == plain["sub/weights.bin"] == ["unchecked"]
    assert statuses(f"./{folder}/") == statuses(f"{folder}//") == plain
