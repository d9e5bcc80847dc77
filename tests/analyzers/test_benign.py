"""Must not flag: ordinary torch, scikit-learn, numpy and plain-Python files pass the policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.models import Format, Severity
from mlsbom.policy import Policy, decide

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BENIGN = sorted(p for p in (FIXTURES / "benign").iterdir() if p.is_file())
REAL = sorted(p for p in (FIXTURES / "real").rglob("*") if p.is_file())
ALLOWED = {"pickle-format", "pickle-nested"}


@pytest.mark.parametrize("path", BENIGN + REAL, ids=[p.name for p in BENIGN + REAL])
def test_benign_file_passes(path: Path) -> None:
    result = scan([str(path)], ScanConfig())
    unexpected = [f for f in result.findings if f.rule_id not in ALLOWED]
    assert unexpected == [], [(f.rule_id, f.message) for f in unexpected]
    assert decide(result, Policy()).passed


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("torch_state_dict.pt", Format.PYTORCH_ZIP),
        ("torch_state_dict_legacy.pt", Format.PYTORCH_LEGACY),
        ("pytorch_model.bin", Format.PYTORCH_ZIP),
        ("sklearn_pipeline.joblib", Format.JOBLIB),
        ("sklearn_pipeline.joblib.z", Format.ZLIB),
        ("sklearn_pipeline.joblib.lz4", Format.LZ4),
        ("sklearn_pipeline.pkl", Format.PICKLE),
        ("numpy_array.npy", Format.NUMPY),
        ("numpy_arrays.npz", Format.NUMPY_ZIP),
        ("model.safetensors", Format.SAFETENSORS),
    ],
)
def test_formats_detected_from_bytes(name: str, fmt: Format) -> None:
    result = scan([str(FIXTURES / "benign" / name)], ScanConfig())
    assert result.artifacts[0].format is fmt


def test_compressed_joblib_is_analysed_inside() -> None:
    for suffix in ("z", "gz", "bz2", "xz", "lzma", "lz4"):
        result = scan(
            [str(FIXTURES / "benign" / f"sklearn_pipeline.joblib.{suffix}")], ScanConfig()
        )
        inner = result.artifacts[1]
        assert inner.ref.member_chain and inner.format is Format.JOBLIB, suffix
        assert any(f.kind == "pickle-import" for f in inner.facts)


def test_pickle_format_is_low_only() -> None:
    # file by file: the folder is a collection, not one model (its weights files differ)
    files = sorted(str(p) for p in (FIXTURES / "benign").iterdir() if p.is_file())
    result = scan(files, ScanConfig())
    assert {f.severity for f in result.findings} <= {Severity.LOW, Severity.INFO}
