"""Weight formats: safetensors checks and differentials, GGUF parsing and its chat templates."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsbom.analyzers import REGISTRY
from mlsbom.analyzers.base import Job
from mlsbom.analyzers.gguf import GgufAnalyzer
from mlsbom.analyzers.onnx_files import OnnxAnalyzer
from mlsbom.analyzers.safetensors_files import SafetensorsAnalyzer
from mlsbom.analyzers.savedmodel import SavedModelAnalyzer
from mlsbom.config import Limits, ScanConfig
from mlsbom.engine import scan
from mlsbom.facts import GgufModel, OnnxExternalData, TensorSummary
from mlsbom.models import ArtifactRef, Format, Severity
from mlsbom.policy import Policy, decide
from mlsbom.rules import load_rules
from mlsbom.sources import BytesSource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
sys.path.insert(0, str(FIXTURES))
gen_weights = pytest.importorskip("gen_weights")
RULES = load_rules()
EXPECTED = {name: exp for name, (_, exp) in gen_weights.files().items()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_expectation(name: str) -> None:
    result = scan([str(FIXTURES / "weights" / name)], ScanConfig())
    expected = EXPECTED[name]
    if expected is None:
        assert [f for f in result.findings if f.severity >= Severity.MEDIUM] == []
        return
    rule_id, fails = expected
    assert rule_id in {f.rule_id for f in result.findings}
    assert decide(result, Policy()).passed is not fails


def test_safetensors_summary_for_the_sbom() -> None:
    result = scan([str(FIXTURES / "weights" / "safetensors" / "library.safetensors")], ScanConfig())
    summary = next(f for f in result.artifacts[0].facts if isinstance(f, TensorSummary))
    assert (summary.tensors, summary.dtypes, summary.parameters) == (2, ("F16", "F32"), 16)


def test_gguf_facts_and_template_child() -> None:
    result = scan([str(FIXTURES / "weights" / "gguf" / "llama_template.gguf")], ScanConfig())
    model = next(f for f in result.artifacts[0].facts if isinstance(f, GgufModel))
    assert (model.architecture, model.name, model.quantization) == ("llama", "tiny", "Q8_0")
    assert (model.tensors, model.parameters, model.version) == (2, 64, 3)
    child = result.artifacts[1]
    assert child.ref.member_chain == ("tokenizer.chat_template",)
    assert child.format is Format.CHAT_TEMPLATE and child.findings == ()


def _job(analyzer_fmt: Format, data: bytes) -> Job:
    limits = Limits()
    return Job(
        ArtifactRef("fuzz"),
        BytesSource(data),
        analyzer_fmt,
        data[:65536],
        len(data),
        limits,
        1e18,
        RULES.lists,
        REGISTRY,
    )


SEEDS = [p.read_bytes() for p in sorted((FIXTURES / "weights").rglob("*")) if p.is_file()]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SEEDS), st.integers(0, 4096), st.binary(max_size=16), st.booleans())
def test_weight_parsers_survive_mutation(seed: bytes, at: int, patch: bytes, cut: bool) -> None:
    at %= max(len(seed), 1)
    data = seed[:at] + patch + (b"" if cut else seed[at + len(patch) :])
    for fmt, analyzer in (
        (Format.SAFETENSORS, SafetensorsAnalyzer()),
        (Format.GGUF, GgufAnalyzer()),
        (Format.ONNX, OnnxAnalyzer()),
        (Format.TF_SAVEDMODEL, SavedModelAnalyzer()),
    ):
        analyzer.analyze(_job(fmt, data))  # facts or ParseError, never an exception


def test_gguf_string_lengths_are_bounded() -> None:
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 62) + b"x" * 32
    facts = GgufAnalyzer().analyze(_job(Format.GGUF, data)).facts
    assert [type(f).__name__ for f in facts] == ["ParseError"]


def test_gguf_values_are_a_counted_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """An array of many small strings stops at a counted limit, the same on any machine."""
    from mlsbom.analyzers import gguf

    monkeypatch.setattr(gguf, "MAX_VALUES", 1000)
    items = b"".join(struct.pack("<Q", 1) + b"a" for _ in range(2000))
    kv = struct.pack("<Q", 3) + b"arr" + struct.pack("<IIQ", 9, 8, 2000) + items
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + kv
    facts = GgufAnalyzer().analyze(_job(Format.GGUF, data)).facts
    assert [(type(f).__name__, getattr(f, "limit", None)) for f in facts] == [
        ("LimitExceeded", "gguf-values")
    ]


def test_onnx_external_locations() -> None:
    result = scan([str(FIXTURES / "weights" / "onnx" / "external_escape.onnx")], ScanConfig())
    ext = [f for f in result.artifacts[0].facts if isinstance(f, OnnxExternalData)]
    assert [(f.tensor, f.location, f.problem) for f in ext] == [
        ("w", "weights/../../../.ssh/id_rsa", "escape")
    ]


def test_shadow_weights_and_shard_index_checks(tmp_path: Path) -> None:
    import shutil

    full = FIXTURES / "sbom" / "full"
    for p in full.iterdir():
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "model-00002-of-00002.safetensors").unlink()
    shutil.copy(
        full / "model-00001-of-00002.safetensors", tmp_path / "model-00003-of-00003.safetensors"
    )
    shutil.copy(FIXTURES / "benign" / "pytorch_model.bin", tmp_path / "pytorch_model.bin")
    shutil.copy(FIXTURES / "benign" / "model.safetensors", tmp_path / "model.safetensors")
    result = scan([str(tmp_path)], ScanConfig())
    found = {(f.artifact.name, f.rule_id, f.message.split(":")[0]) for f in result.findings
             if f.rule_id.startswith(("shard-index", "shadow-weights"))}  # fmt: skip
    assert found == {
        (
            "model.safetensors.index.json",
            "shard-index-mismatch",
            "model-00002-of-00002.safetensors",
        ),
        (
            "model-00003-of-00003.safetensors",
            "shard-index-mismatch",
            "model-00003-of-00003.safetensors",
        ),
        (
            "pytorch_model.bin",
            "shadow-weights-differ",
            "pytorch_model.bin and model.safetensors hold different tensors",
        ),
    }
    demo = scan([str(FIXTURES / "demo")], ScanConfig())
    shadow = [f for f in demo.findings if f.rule_id.startswith("shadow-weights")]
    assert [(f.rule_id, f.artifact.name) for f in shadow] == [
        ("shadow-weights", "pytorch_model.bin")
    ]


def test_state_dict_shapes_from_zip_and_legacy_checkpoints() -> None:
    from mlsbom.facts import TensorShapes

    for name in ("torch_state_dict.pt", "torch_state_dict_legacy.pt"):
        result = scan([str(FIXTURES / "benign" / name)], ScanConfig())
        shapes = [f for a in result.artifacts for f in a.facts if isinstance(f, TensorShapes)]
        assert shapes and all(isinstance(s, tuple) for _, s in shapes[0].tensors), name
