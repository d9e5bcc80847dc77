"""hf:// targets against a hub stand-in on 127.0.0.1, through the real huggingface_hub client.

No test reaches the internet: HF_ENDPOINT points at fixtures/hub_standin.py for each test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.errors import TargetError
from mlsbom.hub.target import parse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))

from hub_repos import CLEAN_COMMIT, COMMIT, DEMO, demo_files  # noqa: E402
from hub_standin import StandIn  # noqa: E402


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def scan_json(target: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run("scan", target, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)


def facts(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for a in doc["artifacts"] for f in a["facts"] if f["kind"] == kind]


def findings_by_file(doc: dict[str, Any], base: str) -> set[tuple[str, str]]:
    return {
        (a["path"].removeprefix(base).lstrip("/"), f["rule_id"])
        for a in doc["artifacts"]
        for f in a["findings"]
    }


def test_hub_scan_matches_local_scan(hub: StandIn) -> None:
    code, remote = scan_json("hf://acme/demo")
    local_code, local = scan_json(str(DEMO))
    assert code == local_code == 1
    assert findings_by_file(remote, "hf://acme/demo") == findings_by_file(local, str(DEMO))
    [repo] = facts(remote, "hub-repository")
    assert repo["commit"] == COMMIT and repo["author"] == "acme"
    assert repo["license"] == "apache-2.0" and repo["files"] == len(demo_files())
    assert repo["security"] == "scans done: True; 0 files with issues" and repo["gated"] is None
    assert 0 < repo["bytes_read"] <= repo["total_bytes"]
    claimed = {f["path"]: f["claimed_sha256"] for f in facts(remote, "hub-file")}
    assert claimed["model.safetensors"] and claimed["config.json"] is None


def test_text_report_says_how_much_was_read(hub: StandIn) -> None:
    code, out, _ = run("scan", "hf://acme/big")
    assert code == 0
    assert "hub: acme/big @ " in out and "read " in out


def test_only_the_safetensors_header_is_read(hub: StandIn) -> None:
    _, doc = scan_json("hf://acme/big")
    [repo] = facts(doc, "hub-repository")
    assert repo["total_bytes"] > 24 << 20
    assert repo["bytes_read"] < repo["total_bytes"] / 100, repo


def test_revision_pinning(hub: StandIn) -> None:
    code, doc = scan_json(f"hf://acme/demo@{COMMIT}")
    assert facts(doc, "hub-repository")[0]["commit"] == COMMIT
    code, _, err = run("scan", "hf://acme/demo@not-a-revision")
    assert code == 2 and "revision not found" in err


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("hf://acme/missing", "repository not found"),
        ("hf://acme/gated", "gated"),
        ("hf://acme/broken", "HTTP 500"),
        ("hf://../etc", "not a hub repository"),
    ],
)
def test_listing_errors_exit_2(hub: StandIn, target: str, message: str) -> None:
    code, _, err = run("scan", target)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_unreachable_hub_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("MLSBOM_HUB_TIMEOUT", "2")
    code, _, err = run("scan", "hf://acme/demo")
    assert code == 2 and "cannot reach the hub" in err


def test_file_faults_are_findings_naming_the_file(hub: StandIn) -> None:
    code, doc = scan_json("hf://acme/faults")
    assert code == 1
    rules = findings_by_file(doc, "hf://acme/faults")
    for name in ("server_error.bin", "truncated.safetensors", "hangs.pkl"):
        assert any(path == name and rule == "unreadable" for path, rule in rules), (name, rules)
    # a Content-Length larger than the body: the bytes asked for arrived, the rest is not awaited
    assert not any(path == "lying.safetensors" for path, _ in rules)
    assert any(path == "huge_header.safetensors" for path, _ in rules)
    assert not any(path == "ok.json" for path, _ in rules)


def test_dataset_targets(hub: StandIn) -> None:
    code, doc = scan_json("hf://datasets/acme/data")
    assert code == 1
    assert ("train.pkl", "pickle-dangerous-import") in findings_by_file(
        doc, "hf://datasets/acme/data"
    )


def test_hub_sbom_records_the_claimed_digests(hub: StandIn, tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    code, _, err = run("sbom", "hf://acme/demo", "-o", str(bom))
    assert code == 0, err
    model = json.loads(bom.read_text())["metadata"]["component"]
    assert model["purl"] == f"pkg:huggingface/acme/demo@{COMMIT}"
    hub_props = {p["name"]: p["value"] for p in model["properties"]}
    assert hub_props["mlsbom:hub:author"] == "acme"
    assert hub_props["mlsbom:hub:security-status"].startswith("scans done")
    files = model["components"]
    props = {c["name"]: {p["name"]: p["value"] for p in c.get("properties", [])} for c in files}
    assert len(props["model.safetensors"]["mlsbom:hub:claimed-sha256"]) == 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hf://org/name", ("model", "org/name", None)),
        ("hf://org/name@v1.0", ("model", "org/name", "v1.0")),
        ("hf://datasets/org/name@main", ("dataset", "org/name", "main")),
        ("hf://spaces/org/app", ("space", "org/app", None)),
    ],
)
def test_target_parsing(text: str, expected: tuple[str, str, str | None]) -> None:
    t = parse(text)
    assert (t.repo_type, t.repo_id, t.revision) == expected


@pytest.mark.parametrize(
    "text",
    ["hf://", "hf://a/b/c", "hf://org/../x", "hf:// spaces", "hf://gpt2", "hf://org/name@"],
)
def test_bad_targets(text: str) -> None:
    with pytest.raises(TargetError):
        parse(text)


# --- local Hugging Face caches -------------------------------------------------------------------


def make_cache(root: Path, repo: str = "acme--demo") -> tuple[Path, Path]:
    """A cache as huggingface_hub lays it out: blobs named by digest, snapshot symlinks to them."""
    import hashlib

    repo_dir = root / f"models--{repo}"
    snapshot = repo_dir / "snapshots" / COMMIT
    (repo_dir / "blobs").mkdir(parents=True)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(COMMIT)
    for rel, path in demo_files().items():
        data = Path(path).read_bytes()
        if rel.endswith((".safetensors", ".bin", ".pt", ".joblib", ".npy")):
            name = hashlib.sha256(data).hexdigest()
        else:
            name = hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()
        (repo_dir / "blobs" / name).write_bytes(data)
        link = snapshot / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path(*[".."] * (len(Path(rel).parts) + 1), "blobs", name))
    return repo_dir, snapshot


def test_cache_snapshot_follows_links_into_blobs_only(tmp_path: Path) -> None:
    repo_dir, snapshot = make_cache(tmp_path)
    (tmp_path / "secret.txt").write_text("outside")
    (snapshot / "escape.txt").symlink_to(tmp_path / "secret.txt")
    for target in (snapshot, repo_dir):
        _code, out, _ = run("scan", str(target), "--format", "json")
        doc = json.loads(out)
        local = findings_by_file(doc, str(snapshot))
        assert ("pytorch_model.bin", "pickle-dangerous-import") in {
            (p.split(f"{COMMIT}/")[-1], r) for p, r in local
        }
        rules = {r for _, r in local}
        assert "symlink-outside-root" in rules and "hf-cache-tampered" not in rules


def test_tampered_cache_blob_is_a_finding(tmp_path: Path) -> None:
    repo_dir, snapshot = make_cache(tmp_path)
    weights = (snapshot / "model.safetensors").resolve()
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # same size, same name, other bytes
    weights.write_bytes(bytes(data))
    config = (snapshot / "config.json").resolve()
    config.write_text(config.read_text().replace("bert", "evil"))
    code, out, _ = run("scan", str(repo_dir))
    assert code == 1
    assert out.count("hf-cache-tampered") == 2 and "sha256" in out and "git-sha1" in out


def test_hf_cache_flag_scans_every_cached_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_cache(tmp_path, "acme--one")
    make_cache(tmp_path, "acme--two")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    code, out, _ = run("scan", "--hf-cache")
    assert code == 1
    assert "models--acme--one" in out and "models--acme--two" in out
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    assert run("scan", "--hf-cache")[0] == 2
    assert run("scan")[0] == 2


def test_download_of_a_failing_repository_never_reaches_the_cache(
    hub: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hf" / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    code, out, err = run("scan", "hf://acme/demo", "--download", "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    assert all("/models--acme--demo/snapshots/" in a["path"] for a in doc["artifacts"])
    assert "hf-cache-tampered" not in out
    repo = facts(doc, "hub-repository")
    assert [(r["commit"], r["license"]) for r in repo] == [(COMMIT, "apache-2.0")]
    assert "not stored in the Hugging Face cache" in err
    assert not (cache / "models--acme--demo").exists()
    assert list((tmp_path / "hf" / "mlsbom-quarantine").iterdir()) == []


def test_download_keep_moves_a_failing_repository_aside(
    hub: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    kept = tmp_path / "inspect"
    code, _, err = run("scan", "hf://acme/demo", "--download", "--keep", str(kept))
    assert code == 1, err
    assert (kept / "models--acme--demo" / "snapshots" / COMMIT / "config.json").is_file()
    assert not (tmp_path / "cache" / "models--acme--demo").exists()
    assert run("scan", "hf://acme/demo", "--keep", str(kept))[0] == 2  # --keep needs --download


def test_download_of_a_passing_repository_is_cached_and_verified(
    hub: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    code, out, err = run("scan", "hf://acme/clean", "--download")
    assert code == 0, out + err
    assert f"acme/clean @ {CLEAN_COMMIT}" in out and "licence mit" in out
    assert "stored in the Hugging Face cache" in err
    repo = cache / "models--acme--clean"
    assert (repo / "refs" / "main").read_text() == CLEAN_COMMIT
    weights = repo / "snapshots" / CLEAN_COMMIT / "model.safetensors"
    assert weights.is_symlink() and weights.resolve().parent == (repo / "blobs").resolve()
    data = bytearray(weights.resolve().read_bytes())
    data[-1] ^= 1
    weights.resolve().write_bytes(bytes(data))
    code, out, _ = run("scan", "--hf-cache")
    assert code == 1 and "hf-cache-tampered" in out


def test_hub_and_cache_artefacts_know_their_target(hub: StandIn, tmp_path: Path) -> None:
    """A hub target's artefacts name it; a cache folder's name the folder as given, although
    their paths run through its snapshot."""
    _code, remote = scan_json("hf://acme/demo")
    assert {a["target"] for a in remote["artifacts"]} == {"hf://acme/demo"}
    repo_dir, snapshot = make_cache(tmp_path)
    _code, out, _ = run("scan", str(repo_dir), "--format", "json")
    arts = json.loads(out)["artifacts"]
    assert {a["target"] for a in arts} == {str(repo_dir)}
    assert all(a["path"].startswith(f"{snapshot}/") for a in arts)
