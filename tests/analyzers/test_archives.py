"""Containers: Keras (.keras, .h5), TorchScript, tar/7z/zip members, escapes and bombs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.facts import KerasObject
from mlsbom.models import Format, Severity
from mlsbom.policy import Policy, decide

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))
gen_containers = pytest.importorskip("gen_containers")
EXPECTED = gen_containers.expected()


def _check(path: Path, expected: tuple[str, bool] | None) -> None:
    result = scan([str(path)], ScanConfig())
    if expected is None:
        assert [f for f in result.findings if f.severity >= Severity.MEDIUM] == []
        return
    rule_id, fails = expected
    assert rule_id in {f.rule_id for f in result.findings}
    assert decide(result, Policy()).passed is not fails


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_expectation(name: str) -> None:
    _check(FIXTURES / "containers" / name, EXPECTED[name])


@pytest.mark.parametrize("name", ["evil.7z", "bomb.7z", "benign.7z"])
def test_sevenzip(name: str, tmp_path: Path) -> None:
    pytest.importorskip("py7zr")
    data, expected = gen_containers.sevenzip_files()[name]
    path = tmp_path / name
    path.write_bytes(data)
    _check(path, expected)


def test_formats_are_classified_by_members() -> None:
    formats = {
        name: scan([str(FIXTURES / "containers" / name)], ScanConfig()).artifacts[0].format
        for name in ("keras/benign.keras", "torchscript/benign.pt", "archives/slip.tar")
    }
    assert formats == {
        "keras/benign.keras": Format.KERAS,
        "torchscript/benign.pt": Format.TORCHSCRIPT,
        "archives/slip.tar": Format.TAR,
    }


def _h5(path: Path, config: dict[str, object] | None) -> Path:
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as f:
        f.create_dataset("w", data=[1.0, 2.0])
        if config is not None:
            f.attrs["model_config"] = json.dumps(config)
            f.attrs["keras_version"] = "2.15.0"
    return path


def test_h5_legacy_keras_lambda_is_found(tmp_path: Path) -> None:
    config = {
        "class_name": "Sequential",
        "config": {"layers": [{"class_name": "Lambda", "config": {
            "function": ["4wAAAAAAAAAA", None, None], "function_type": "lambda"}}]},
    }  # fmt: skip
    result = scan([str(_h5(tmp_path / "model.h5", config))], ScanConfig())
    assert result.artifacts[0].format is Format.HDF5
    facts = [f for f in result.artifacts[0].facts if isinstance(f, KerasObject)]
    assert [(f.role, f.evidence) for f in facts] == [("lambda", "4wAAAAAAAAAA")]
    assert not decide(result, Policy()).passed


def test_h5_plain_weights_pass(tmp_path: Path) -> None:
    dense = {"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense",
             "config": {"units": 2}}]}}  # fmt: skip
    for name, config in (("weights.h5", None), ("dense.h5", dense)):
        result = scan([str(_h5(tmp_path / name, config))], ScanConfig())
        assert result.findings == (), name


def test_corrupt_h5_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    result = scan([str(path)], ScanConfig())
    assert {f.rule_id for f in result.findings} == {"malformed-artifact"}
