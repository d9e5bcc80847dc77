"""Walking targets: deterministic, every file, links never followed out of the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.errors import TargetError
from mlsbom.facts import NotRegularFile, SymlinkOutsideRoot
from mlsbom.walk import walk


def test_every_file_in_sorted_order(tmp_path: Path) -> None:
    for name in ("b.txt", "a.weird", "sub/z.bin", "sub/deeper/y", ".git/objects/x"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"hello")
    result = scan([str(tmp_path)], ScanConfig())
    paths = [a.ref.path for a in result.artifacts]
    rel = [p[len(str(tmp_path)) + 1 :] for p in paths]
    assert rel == ["a.weird", "b.txt", "sub/deeper/y", "sub/z.bin"]


def test_symlink_out_of_root_is_reported_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.pkl"
    outside.write_bytes(b"cos\nsystem\n(S'x'\ntR.")
    root = tmp_path / "model"
    root.mkdir()
    (root / "weights.pkl").symlink_to(outside)
    items = list(walk(str(root)))
    assert len(items) == 1 and items[0].source is None
    assert isinstance(items[0].facts[0], SymlinkOutsideRoot)
    result = scan([str(root)], ScanConfig())
    assert [f.rule_id for f in result.findings] == ["symlink-outside-root"]


def test_symlink_inside_root_is_scanned_under_its_name(tmp_path: Path) -> None:
    (tmp_path / "real.pkl").write_bytes(b"cos\nsystem\n(S'x'\ntR.")
    (tmp_path / "model.safetensors").symlink_to(tmp_path / "real.pkl")
    result = scan([str(tmp_path)], ScanConfig())
    linked = next(a for a in result.artifacts if a.ref.path.endswith("model.safetensors"))
    assert "extension-mismatch-code" in {f.rule_id for f in linked.findings}


def test_symlink_loop_and_dangling_link(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path)
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    result = scan([str(tmp_path)], ScanConfig())
    rules = sorted(f.rule_id for f in result.findings)
    assert rules == ["dangling-symlink"]


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    items = list(walk(str(tmp_path)))
    assert items[0].source is None and isinstance(items[0].facts[0], NotRegularFile)


def test_missing_target_raises(tmp_path: Path) -> None:
    with pytest.raises(TargetError):
        list(walk(str(tmp_path / "missing")))
