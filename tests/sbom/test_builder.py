"""CycloneDX ML-BOM: schema-valid for every fixture repo, deterministic, faithful to the scan."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sortedcontainers import SortedSet

from mlsbom._cli import cli
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.sbom.builder import build_bom
from mlsbom.sbom.render import bom_timestamp, render_sbom

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REPOS = sorted(p for p in (FIXTURES / "sbom").iterdir() if p.is_dir() and p.name != "hub_cache")
CACHE_SNAPSHOT = next((FIXTURES / "sbom" / "hub_cache").glob("models--*/snapshots/*"))
ALL = [*REPOS, CACHE_SNAPSHOT, FIXTURES / "demo"]


def _bom(target: Path, spec: str = "1.6") -> dict[str, Any]:
    result = scan([str(target)], ScanConfig(hash_files=True))
    text = render_sbom(result, spec)
    version = SchemaVersion.V1_6 if spec == "1.6" else SchemaVersion.V1_7
    assert JsonStrictValidator(version).validate_str(text) is None
    doc: dict[str, Any] = json.loads(text)
    return doc


def _props(component: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in component.get("properties", []):
        out.setdefault(p["name"], []).append(p["value"])
    return out


@pytest.mark.parametrize("spec", ["1.6", "1.7"])
@pytest.mark.parametrize("target", ALL, ids=lambda p: p.name)
def test_every_fixture_repo_gives_a_valid_bom(target: Path, spec: str) -> None:
    doc = _bom(target, spec)
    assert doc["specVersion"] == spec
    assert doc["metadata"]["component"]["type"] == "machine-learning-model"


def test_demo_bom_records_provenance_files_and_findings() -> None:
    doc = _bom(FIXTURES / "demo")
    model = doc["metadata"]["component"]
    assert model["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    card = model["modelCard"]["modelParameters"]
    assert card["task"] == "text-classification"
    assert card["architectureFamily"] == "bert"
    assert card["modelArchitecture"] == "BertForSequenceClassification"
    assert card["datasets"] == [{"ref": "dataset/stanfordnlp/imdb"}]
    assert _props(model)["mlsbom:claimed-source"] == ["mlsbom/demo-classifier"]
    ancestors = model["pedigree"]["ancestors"]
    assert ancestors[0]["name"] == "google-bert/bert-base-uncased" and "purl" not in ancestors[0]
    refs = {c["bom-ref"]: c for c in doc["components"]}
    base = refs["base-model/google-bert/bert-base-uncased"]
    assert base["purl"] == "pkg:huggingface/google-bert/bert-base-uncased"
    assert refs["dataset/stanfordnlp/imdb"]["type"] == "data"
    assert refs["dataset/stanfordnlp/imdb"]["data"] == [
        {"type": "dataset", "name": "stanfordnlp/imdb"}
    ]
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert model["bom-ref"] == "model/demo"
    assert set(deps["model/demo"]) == {
        "base-model/google-bert/bert-base-uncased",
        "dataset/stanfordnlp/imdb",
    }
    files = {c["name"]: c for c in model["components"]}
    weights = FIXTURES / "demo" / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert files["model.safetensors"]["hashes"] == [{"alg": "SHA-256", "content": digest}]
    assert _props(files["model.safetensors"])["mlsbom:format"] == ["safetensors"]
    assert _props(files["pytorch_model.bin"])["mlsbom:verdict"] == ["critical"]
    critical = [v for v in doc["vulnerabilities"] if v["id"] == "pickle-dangerous-import"]
    assert len(critical) == 1
    assert critical[0]["cwes"] == [94, 502]
    assert critical[0]["ratings"] == [{"severity": "critical"}]
    assert critical[0]["affects"] == [{"ref": "model/demo/file/pytorch_model.bin"}]
    assert critical[0]["bom-ref"].startswith("finding/pickle-dangerous-import/")
    assert "posix.system" in critical[0]["detail"]


def test_full_card_considerations_and_shards() -> None:
    doc = _bom(FIXTURES / "sbom" / "full")
    model = doc["metadata"]["component"]
    considerations = model["modelCard"]["considerations"]
    assert considerations["useCases"] == ["Drafting short answers in English and French."]
    assert "Hallucinates" in considerations["technicalLimitations"][0]
    assert considerations["ethicalConsiderations"][0]["name"].startswith("Trained on web text")
    assert model["modelCard"]["modelParameters"]["outputs"] == [{"format": "text"}]
    assert len(model["pedigree"]["ancestors"]) == 2
    props = _props(model)
    assert props["mlsbom:model.safetensors.index.json:shards"] == ["2"]
    assert props["mlsbom:generation_config.json:max_new_tokens"] == ["64"]
    assert {c["name"] for c in doc["components"] if c["type"] == "data"} == {
        "HuggingFaceFW/fineweb",
        "acme/internal-chat",
    }


def test_licences_non_spdx_and_expressions_stay_valid() -> None:
    other = _bom(FIXTURES / "sbom" / "licence_other")["metadata"]["component"]
    assert other["licenses"] == [{"license": {"name": "acme-research-only"}}]
    expr = _bom(FIXTURES / "sbom" / "licence_expression")["metadata"]["component"]
    assert expr["licenses"] == [{"expression": "MIT OR Apache-2.0"}]


def test_hostile_metadata_is_cleaned_and_recorded() -> None:
    doc = _bom(FIXTURES / "sbom" / "hostile")
    model = doc["metadata"]["component"]
    text = json.dumps(doc)
    assert "\\u0001" not in text and "\\u202e" not in text and "\\u0007" not in text
    problems = _props(model)["mlsbom:metadata-problem:README.md"]
    assert any("cut to" in p for p in problems)
    assert any("expected a string" in p for p in problems)
    assert max(len(a["name"]) for a in model["pedigree"]["ancestors"]) <= 512


def test_malformed_front_matter_is_recorded() -> None:
    model = _bom(FIXTURES / "sbom" / "malformed_yaml")["metadata"]["component"]
    assert "licenses" not in model
    assert "front matter unreadable" in _props(model)["mlsbom:metadata-problem:README.md"][0]


def test_hf_cache_snapshot_gives_purl_with_revision() -> None:
    model = _bom(CACHE_SNAPSHOT)["metadata"]["component"]
    assert model["name"] == "acme/tiny-llama"
    assert model["purl"] == f"pkg:huggingface/acme/tiny-llama@{CACHE_SNAPSHOT.name}"
    assert model["version"] == CACHE_SNAPSHOT.name


def test_source_date_epoch_gives_byte_identical_boms(tmp_path: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1700000000", "PATH": ""}
    outs = []
    for n in range(2):
        out = tmp_path / f"bom{n}.json"
        subprocess.run(
            [sys.executable, "-m", "mlsbom", "sbom", str(FIXTURES / "demo"), "-o", str(out)],
            check=True,
            env=env,
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    doc = json.loads(outs[0])
    assert doc["metadata"]["timestamp"] == "2023-11-14T22:13:20+00:00"


def test_cli_scan_writes_sbom_and_keeps_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "bom.json"
    res = CliRunner().invoke(cli, ["scan", str(FIXTURES / "demo"), "--sbom", str(out)])
    assert res.exit_code == 1  # the demo's injected checkpoint
    assert json.loads(out.read_text())["bomFormat"] == "CycloneDX"
    res = CliRunner().invoke(cli, ["sbom", str(FIXTURES / "sbom" / "full"), "--spec", "1.7"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["specVersion"] == "1.7"


def test_missing_target_is_exit_2() -> None:
    res = CliRunner().invoke(cli, ["sbom", "/nonexistent/model"])
    assert res.exit_code == 2


def test_file_components_keep_the_library_order(tmp_path: Path) -> None:
    """Files are nested in order for speed; the result equals the library's own sorted set."""
    for name in ["b.bin", "A.bin", "a/b.json", "a.b", "ä.txt", "0", "a-b"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())
    bom, _ = build_bom(scan([str(tmp_path)], ScanConfig(hash_files=True)), bom_timestamp())
    nested = list(bom.metadata.component.components)  # type: ignore[union-attr]
    assert [c.name for c in nested] == [c.name for c in SortedSet(nested)]
    assert len(nested) == 7


def _purls(doc: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def visit(comp: dict[str, Any]) -> None:
        if "purl" in comp:
            found.append(comp["purl"])
        for child in comp.get("components", []):
            visit(child)
        for anc in comp.get("pedigree", {}).get("ancestors", []):
            visit(anc)

    for comp in [doc["metadata"].get("component", {}), *doc.get("components", [])]:
        visit(comp)
    return found


def test_bom_depends_on_content_not_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same model in two folders gives the same BOM: no absolute paths, refs from identity."""
    import shutil

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    texts = []
    for where in ("a/deep/place", "elsewhere"):
        dest = tmp_path / where / "demo"
        shutil.copytree(FIXTURES / "demo", dest)
        result = scan([str(dest)], ScanConfig(hash_files=True))
        texts.append(render_sbom(result, "1.6"))
    assert texts[0] == texts[1]
    assert str(tmp_path) not in texts[0]
    doc = json.loads(texts[0])
    purls = _purls(doc)
    assert len(purls) == len(set(purls)), purls


def test_two_targets_of_the_same_name_get_distinct_refs(tmp_path: Path) -> None:
    import shutil

    for where in ("one", "two"):
        shutil.copytree(FIXTURES / "sbom" / "full", tmp_path / where / "model")
    result = scan(
        [str(tmp_path / "one" / "model"), str(tmp_path / "two" / "model")],
        ScanConfig(hash_files=True),
    )
    doc = json.loads(render_sbom(result, "1.7"))
    refs = [c["bom-ref"] for c in doc["components"] if c["type"] == "machine-learning-model"]
    assert "model/model" in refs and "model/model#2" in refs
    purls = _purls(doc)
    assert len(purls) == len(set(purls)), purls


def test_hub_links_follow_hf_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.internal/")
    model = _bom(CACHE_SNAPSHOT)["metadata"]["component"]
    urls = [r["url"] for r in model.get("externalReferences", [])]
    assert urls and all(u.startswith("https://hub.example.internal/acme/tiny-llama") for u in urls)
    assert model["supplier"] == {"name": "acme"}


def test_waived_findings_are_vex(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[[waivers]]\nrule = "pickle-dangerous-import"\npath = "*"\n'
        'reason = "fixture under review"\nexpires = 2099-01-01\n'
    )
    out = tmp_path / "bom.json"
    res = CliRunner().invoke(
        cli, ["scan", str(FIXTURES / "demo"), "--policy", str(policy), "--sbom", str(out)]
    )
    assert res.exit_code in (0, 1), res.output
    vulns = json.loads(out.read_text())["vulnerabilities"]
    waived = [v for v in vulns if v["id"] == "pickle-dangerous-import"]
    assert waived and waived[0]["analysis"]["state"] == "not_affected"
    assert waived[0]["analysis"]["justification"] == "protected_by_mitigating_control"
    assert "fixture under review" in waived[0]["analysis"]["detail"]
    assert "2099-01-01" in waived[0]["analysis"]["detail"]
