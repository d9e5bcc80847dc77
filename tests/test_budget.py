"""Decompression budgets per target and per scan: counted in walk order, so the verdicts are the
same with --jobs 1 and --jobs N, with and without the result cache."""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path

import pytest

from mlsbom.config import Limits, ScanConfig
from mlsbom.engine import scan
from mlsbom.models import ScanResult

MiB = 1 << 20
CHUNK = 3 * MiB  # inflated per file: a gzip'd pickle whose bytes value the walker reads through


def _pickle_gz(path: Path) -> Path:
    """Over the cache's 16 KiB floor (random head), 3 MiB inflated."""
    data = random.Random(path.name).randbytes(20_000) + bytes(CHUNK - 20_000)
    body = b"\x80\x04\x8e" + CHUNK.to_bytes(8, "little") + data + b"\x94."
    path.write_bytes(gzip.compress(body, mtime=0))
    return path


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    root.mkdir()
    for n in range(6):
        _pickle_gz(root / f"part{n}.pkl.gz")
    return root


def _limits(result: ScanResult) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for art in result.artifacts:
        for fact in art.facts:
            name = getattr(fact, "limit", None)
            if isinstance(name, str):
                out.setdefault(os.path.basename(art.ref.path), set()).add(name)
    return out


def _view(result: ScanResult) -> str:
    """The result as JSON, less paths' tmp prefixes: comparable across runs."""
    from mlsbom.serial import dump

    return json.dumps(dump(list(result.artifacts)), sort_keys=True)


@pytest.mark.parametrize("jobs", [1, 2])
def test_scan_budget_stops_later_files_in_walk_order(folder: Path, jobs: int) -> None:
    limits = Limits(max_scan_inflated_bytes=10 * MiB)
    result = scan([str(folder)], ScanConfig(limits=limits, jobs=jobs))
    cut = _limits(result)
    assert "part0.pkl.gz" not in cut and "part2.pkl.gz" not in cut  # 3 x 3 MiB fit
    for n in (3, 4, 5):  # the fourth crosses 10 MiB; nothing is left for the rest
        assert "scan-inflated-bytes" in cut[f"part{n}.pkl.gz"], cut
    assert "limit-exceeded" in {f.rule_id for f in result.findings}


def test_same_verdicts_with_jobs_and_cache(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSBOM_CACHE_DIR", str(tmp_path / "cache"))
    limits = Limits(max_scan_inflated_bytes=10 * MiB)
    runs = [
        scan([str(folder)], ScanConfig(limits=limits, jobs=jobs, cache=cache))
        for jobs, cache in ((1, False), (2, False), (1, True), (1, True), (2, True))
    ]
    assert len({_view(r) for r in runs}) == 1
    assert list((tmp_path / "cache").rglob("*")), "the cache was used"


def test_target_budget_resets_per_target(tmp_path: Path) -> None:
    targets = []
    for name in ("a", "b"):
        root = tmp_path / name
        root.mkdir()
        for n in range(3):
            _pickle_gz(root / f"{name}{n}.pkl.gz")
        targets.append(str(root))
    limits = Limits(max_target_inflated_bytes=7 * MiB)
    cut = _limits(scan(targets, ScanConfig(limits=limits)))
    assert set(cut) == {"a2.pkl.gz", "b2.pkl.gz"}, cut  # the third of each target
    assert all(v == {"target-inflated-bytes"} for v in cut.values())


def test_default_budgets_leave_ordinary_scans_alone(folder: Path) -> None:
    assert _limits(scan([str(folder)], ScanConfig())) == {}
