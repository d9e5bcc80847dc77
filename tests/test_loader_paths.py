"""Keras configs, HDF5 references, ONNX external data and config-named paths: loader reach.

Fixtures come from fixtures/gen_loader_paths.py; nothing here loads them (parsing only).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlsbom.analyzers.keras_files import config_facts
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.loader_paths import path_problem
from mlsbom.models import Severity
from mlsbom.policy import Policy, decide
from mlsbom.rules import load_rules

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
import gen_loader_paths  # noqa: E402

LISTS = load_rules().lists

EXPECTED = gen_loader_paths.expected()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_expectation(name: str) -> None:
    path = FIXTURES / "loader_paths" / name
    target = path.parent if name.endswith(".index.json") else path  # the index with its shards
    result = scan([str(target)], ScanConfig())
    expected = EXPECTED[name]
    rules = sorted({f.rule_id for f in result.findings})
    if expected is None:
        assert [f for f in result.findings if f.severity >= Severity.MEDIUM] == [], rules
        return
    rule_id, fails = expected
    assert rule_id in rules, rules
    assert decide(result, Policy()).passed is not fails, rules


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("weights.bin", "inside"),
        ("sub/../w.bin", "inside"),
        ("./a/b/c.bin", "inside"),
        ("/etc/passwd", "absolute"),
        ("/dev/zero", "special"),
        ("/proc/self/environ", "special"),
        ("\\dev\\stdin", "special"),
        ("https://example.invalid/w", "url"),
        ("file:///etc/passwd", "url"),
        ("s3://bucket/w", "url"),
        ("../w.bin", "escape"),
        ("a/../../w.bin", "escape"),
        ("a\\..\\..\\w.bin", "escape"),
        ("C:\\Windows\\win.ini", "windows"),
        ("c:w.bin", "windows"),
        ("\\\\server\\share\\w.bin", "windows"),
        ("//server/share/w.bin", "windows"),
        ("w.bin\x00/../../etc/passwd", "nul"),
        ("~/.ssh/id_rsa", "home"),
    ],
)
def test_path_problem(path: str, problem: str) -> None:
    assert path_problem(path) == problem


def _roles(config: object) -> set[str]:
    facts, _ = config_facts(config, LISTS)
    return {getattr(f, "role", getattr(f, "problem", f.kind)) for f in facts}


LAMBDA = {"class_name": "__lambda__", "config": {"value": ["ZmFrZQ==", None, None]}}


@pytest.mark.parametrize(
    ("config", "role"),
    [
        ({"class_name": "Dense", "config": {"activation": LAMBDA}}, "lambda"),
        ({"config": {"layers": [{"config": {"kernel_initializer": LAMBDA}}]}}, "lambda"),
        ({"compile_config": {"metrics": [[LAMBDA]]}}, "lambda"),
        ({"config": {"function_type": "lambda", "function": "ZmFrZQ=="}}, "lambda"),
        ({"config": {"output_shape_type": "lambda", "output_shape": ["x"]}}, "lambda"),
        ({"module": "os", "class_name": "function", "config": "getcwd"}, "foreign-module"),
        ({"module": "posix", "class_name": "getcwd", "config": {}}, "foreign-module"),
        (
            {"config": {"function_type": "function", "function": "getcwd", "module": "os"}},
            "foreign-module",
        ),
        ({"class_name": "TFOpLambda", "config": {"function": "io.write_file"}}, "foreign-module"),
        ({"class_name": "X", "registered_name": "acme>Layer"}, "custom-object"),
        ({"class_name": "StringLookup", "config": {"vocabulary": "/etc/passwd"}}, "absolute"),
        ({"class_name": "TextVectorization", "config": {"vocabulary": "../v.txt"}}, "escape"),
    ],
)
def test_serialized_code_anywhere_in_a_config(config: object, role: str) -> None:
    assert role in _roles(config)


@pytest.mark.parametrize(
    "config",
    [
        {"module": "keras.activations", "class_name": "function", "config": "relu"},
        {
            "module": "keras_hub.src.models",
            "class_name": "Backbone",
            "registered_name": "keras_hub>B",
        },
        {"class_name": "Dense", "config": {"activation": "relu", "kernel_initializer": "zeros"}},
        {"class_name": "TFOpLambda", "config": {"function": "math.add"}},
        {"class_name": "StringLookup", "config": {"vocabulary": ["a", "b"]}},
        [1, "x", None],
        "not an object",
    ],
)
def test_benign_configs_are_quiet(config: object) -> None:
    facts, _ = config_facts(config, LISTS)
    assert facts == []


def test_config_walk_is_bounded() -> None:
    deep: object = LAMBDA
    for _ in range(5000):
        deep = {"config": deep}
    assert "lambda" in _roles(deep)
    wide = {"layers": [{"class_name": "Dense", "config": {}}] * 600_000}
    facts, _ = config_facts(wide, LISTS)  # stops at the node budget, no crash
    assert isinstance(facts, list)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe\x00", b'{"config": ' * 50_000],
    ids=["broken", "deep", "binary", "unclosed-deep"],
)
def test_malformed_keras_configs_are_findings(tmp_path: Path, content: bytes) -> None:
    import zipfile

    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", content)
        z.writestr("metadata.json", "{}")
    rules = {f.rule_id for f in scan([str(path)], ScanConfig()).findings}
    assert "malformed-artifact" in rules


def test_hdf5_hard_link_cycle_is_bounded(tmp_path: Path) -> None:
    import h5py

    path = tmp_path / "cycle.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("g")
        g["self"] = g  # a hard link back to its own group
        g["up"] = f["/"]
    result = scan([str(path)], ScanConfig())
    assert all(f.severity < Severity.HIGH for f in result.findings)


@pytest.mark.parametrize("cut", [10, 40, 77])
def test_truncated_onnx_is_a_finding(tmp_path: Path, cut: int) -> None:
    data = (FIXTURES / "loader_paths" / "onnx" / "subgraph_depth5.onnx").read_bytes()
    path = tmp_path / "t.onnx"
    path.write_bytes(data[:cut])
    rules = {f.rule_id for f in scan([str(path)], ScanConfig()).findings}
    assert "malformed-artifact" in rules


REAL_KERAS = sorted((FIXTURES / "keras_real").glob("*.*"))


@pytest.mark.parametrize("path", REAL_KERAS, ids=lambda p: p.name)
def test_real_keras_saves(path: Path) -> None:
    """Keras 3.15 saves (fixtures/gen_keras_real.py): quiet, except the one with a Lambda."""
    result = scan([str(path)], ScanConfig())
    rules = [f.rule_id for f in result.findings if f.severity >= Severity.MEDIUM]
    if path.name.startswith("lambda.") and not path.name.endswith(".weights.h5"):
        assert rules == ["keras-lambda"]
    else:
        assert rules == []
