"""The result cache: unchanged files are not analysed again, and nothing stale leaks through."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlsbom import result_cache
from mlsbom._cli import cli
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.result_cache import ResultCache
from mlsbom.walk import walk

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSBOM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(result_cache, "MIN_BYTES", 0)  # the fixtures are small files


def test_files_cheaper_to_scan_than_to_look_up_are_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(result_cache, "MIN_BYTES", 16 << 10)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "small.pkl").write_bytes(b"\x80\x04K\x01.")
    (tmp_path / "m" / "big.bin").write_bytes(b"\x80\x04K\x01." + bytes(20_000))
    json_scan(str(tmp_path / "m"), "--cache")
    store = ResultCache(ScanConfig(cache=True))
    hits = {i.ref.name: store.get(i) is not None for i in walk(str(tmp_path / "m"))}
    assert hits == {"small.pkl": False, "big.bin": True}


def json_scan(*args: str) -> str:
    result = CliRunner().invoke(cli, ["scan", *args, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


def test_second_run_is_identical_and_served_from_the_cache(tmp_path: Path) -> None:
    target = shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    first = json_scan(str(target), "--cache")
    assert json_scan(str(target), "--cache") == first == json_scan(str(target))
    store = ResultCache(ScanConfig(cache=True))
    items = [i for i in walk(str(target)) if i.source is not None]
    assert all(store.get(i) is not None for i in items)


def test_changed_file_is_analysed_again(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    weights = tmp_path / "m" / "model.pkl"
    weights.write_bytes(b"\x80\x04K\x01.")
    assert json.loads(json_scan(str(tmp_path / "m"), "--cache"))["summary"]["findings"] == 1
    weights.write_bytes(EVIL)
    doc = json.loads(json_scan(str(tmp_path / "m"), "--cache"))
    assert "pickle-dangerous-import" in json.dumps(doc)


def test_same_content_under_another_name_is_judged_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "model.pkl").write_bytes(b"\x80\x04K\x01.")
    json_scan(str(tmp_path / "a"), "--cache")
    os.rename(tmp_path / "a" / "model.pkl", tmp_path / "a" / "model.safetensors")
    assert "extension-mismatch" in json_scan(str(tmp_path / "a"), "--cache")


def test_touched_file_with_same_content_hits_by_content(tmp_path: Path) -> None:
    target = shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    json_scan(str(target), "--cache")
    os.utime(target / "pytorch_model.bin", ns=(1, 1))
    store = ResultCache(ScanConfig(cache=True))
    item = next(i for i in walk(str(target)) if i.ref.name == "pytorch_model.bin")
    assert store.get(item) is not None


def test_corrupt_entries_are_ignored(tmp_path: Path) -> None:
    target = shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    first = json_scan(str(target), "--cache")
    for entry in (tmp_path / "cache" / "results").rglob("*.json"):
        entry.write_text('[{"ref": "not what you think"}]')
    assert json_scan(str(target), "--cache") == first


def test_engine_cache_matches_no_cache() -> None:
    plain = scan([str(FIXTURES / "malicious")], ScanConfig())
    scan([str(FIXTURES / "malicious")], ScanConfig(cache=True))
    cached = scan([str(FIXTURES / "malicious")], ScanConfig(cache=True))
    assert cached == plain
