"""Attacks by someone who has read mlsbom's source (issue 15): each is flagged, near-misses are not.

Fixtures come from fixtures/gen_pickle_attacks.py (harmless payloads, opcode lists). Nothing here
loads them: the autouse guard in conftest makes every loader raise.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.analyzers import pickle_joblib as jl
from mlsbom.analyzers.numpy_files import classify
from mlsbom.analyzers.pickle_vm import PickleWalker, probe_file
from mlsbom.analyzers.plain import unscannable_reason
from mlsbom.config import Limits, ScanConfig
from mlsbom.engine import scan
from mlsbom.facts import LimitExceeded
from mlsbom.models import ArtifactRef, Severity
from mlsbom.policy import Policy, Waiver, apply, decide

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ROOT = FIXTURES / "pickle_attacks"
sys.path.insert(0, str(FIXTURES))
gen = pytest.importorskip("gen_pickle_attacks")

# the rule that must catch each class (by the fixture's folder)
CLASS_RULES = {
    "detect": {"pickle-dangerous-import"},
    "unscannable": {"unscannable", "limit-exceeded", "malformed-artifact"},
    "skip": {"pickle-dangerous-import"},
    "external": {"pickle-external-file"},
    "unknown": {"pickle-unresolved", "limit-exceeded"},
    "torch_bytes": {"pickle-dangerous-import"},  # the loader stays an import unless judged clean
}


def _rules(name: str) -> dict[str, Severity]:
    result = scan([str(ROOT / name)], ScanConfig())
    return {f.rule_id: f.severity for f in result.findings}


def test_fixtures_regenerate_identically(tmp_path: Path) -> None:
    gen.build(tmp_path)
    for name in (*gen.MALICIOUS, *gen.BENIGN):
        assert (tmp_path / name).read_bytes() == (ROOT / name).read_bytes(), name


def test_every_fixture_is_listed() -> None:
    on_disk = {p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()}
    folders = {n for n in on_disk if n.endswith("dir/config.json")}
    assert on_disk == set(gen.MALICIOUS) | set(gen.BENIGN) | folders


@pytest.mark.parametrize("name", gen.MALICIOUS)
def test_attack_is_flagged_high(name: str) -> None:
    result = scan([str(ROOT / name)], ScanConfig())
    assert not decide(result, Policy()).passed, name
    high = {f.rule_id for f in result.findings if f.severity >= Severity.HIGH}
    assert high & CLASS_RULES[name.split("/", 1)[0]], (name, sorted(high))


@pytest.mark.parametrize("name", gen.MALICIOUS)
def test_attack_fails_the_cli(name: str) -> None:
    assert CliRunner().invoke(cli, ["scan", str(ROOT / name)]).exit_code == 1


@pytest.mark.parametrize("name", gen.BENIGN)
def test_near_miss_stays_quiet(name: str) -> None:
    high = {rule for rule, sev in _rules(name).items() if sev >= Severity.HIGH}
    assert not high, (name, sorted(high))
    assert CliRunner().invoke(cli, ["scan", str(ROOT / name)]).exit_code == 0


def test_polyglot_tar_is_a_pickle() -> None:
    result = scan([str(ROOT / "detect/polyglot.joblib")], ScanConfig())
    assert result.artifacts[0].format.value == "pickle"


def test_unscannable_is_waivable() -> None:
    waiver = Waiver("unscannable", "*/model.bin", "raw weights", dt.date(2999, 1, 1))
    result = scan([str(ROOT / "unscannable/model.bin")], ScanConfig())
    assert not decide(result, Policy()).passed
    policy = Policy(waivers=(waiver,))
    assert decide(apply(result, policy), policy).passed


# ------------------------------------------------------------------ joblib/numpy semantics
def test_int64_product_wraps_like_numpy() -> None:
    assert jl.element_count((1 << 32, 1 << 32)) == 0
    assert jl.element_count((1 << 62, 4)) == 0
    assert jl.element_count((3, -1)) == -3
    assert jl.element_count(()) == 1
    assert jl.element_count((1 << 63,)) == -1  # np.int64 overflows: joblib raises
    assert jl.element_count((2.5,)) is None


@pytest.mark.parametrize(
    ("descr", "kind"),
    [
        ("<f8", "plain"),
        ("|b1", "plain"),
        ("<U5", "plain"),
        ("<M8[ns]", "plain"),
        ("|O", "object"),
        ("object", "object"),
        ("object_", "object"),
        ("O,<f8", "unknown"),
        ("float64", "unknown"),
        ([("a", "<f8"), ("b", "|O")], "object"),
        ([("a", "<f8"), ("b", "<i4", (2,))], "plain"),
        (("object", (2,)), "object"),
        ({"names": ["a"]}, "unknown"),
    ],
)
def test_npy_descr_classification(descr: object, kind: str) -> None:
    assert classify(descr) == kind


@pytest.mark.parametrize(
    ("value", "flagged"),
    [
        ("model.pkl_01.npy", False),
        ("sub/arr.npy", False),
        ("/tmp/x.npy", True),
        ("C:\\x.npy", True),
        ("http://127.0.0.1/x.npy", True),
        ("a/../../x.npy", True),
        ("other.pkl", True),
        (3, True),
    ],
)
def test_external_file_reasons(value: object, flagged: bool) -> None:
    assert (jl.external_reason(value) is not None) == flagged


# --------------------------------------------------------------------- deterministic budgets
def _long_pickle(pairs: int) -> bytes:
    return b"\x80\x02" + b"N0" * pairs + b"N."


def _walk(data: bytes, limits: Limits, deadline: float) -> list[object]:
    walker = PickleWalker(limits, deadline)
    walker.walk_file(io.BytesIO(data), size=len(data))
    return walker.facts()


def test_same_verdict_on_a_busy_machine() -> None:
    """A deadline already past (a busy machine) changes nothing: counted budgets decide."""
    data = _long_pickle(550_000)  # over 2**20 opcodes: the clock is consulted
    limits = Limits()
    quiet = _walk(data, limits, time.monotonic() + 3600)
    busy = _walk(data, limits, time.monotonic() - 1)
    assert quiet == busy
    assert not any(isinstance(f, LimitExceeded) for f in busy)


def test_opcode_budget_is_counted_not_timed() -> None:
    data = _long_pickle(300_000)
    limits = Limits(max_opcodes=200_000)
    quiet = _walk(data, limits, time.monotonic() + 3600)
    busy = _walk(data, limits, time.monotonic() - 1)
    assert quiet == busy
    assert [f.limit for f in busy if isinstance(f, LimitExceeded)] == ["pickle-opcodes"]


def test_the_clock_is_a_last_resort_reported_as_such() -> None:
    data = _long_pickle(550_000)
    facts = _walk(data, Limits(), time.monotonic() - 100_000)  # far past any budget
    assert [f.limit for f in facts if isinstance(f, LimitExceeded)] == ["seconds-last-resort"]


def test_unscannable_names(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"x")
    (tmp_path / "config.json").write_bytes(b"{}")
    beside = unscannable_reason(ArtifactRef(str(tmp_path / "model.onnx.data")))
    assert beside is None  # ONNX external data next to its model
    assert unscannable_reason(ArtifactRef(str(tmp_path / "weights.data"))) is not None
    assert unscannable_reason(ArtifactRef(str(tmp_path / "blob"))) is not None  # model folder
    assert unscannable_reason(ArtifactRef(str(tmp_path / ".DS_Store"))) is None
    assert unscannable_reason(ArtifactRef(str(tmp_path / "picture.png"))) is None
    assert unscannable_reason(ArtifactRef("x.zip", ("data/0",))) is None  # a member, no ext


def test_probe_over_budget_is_analysed_as_a_pickle() -> None:
    """Bytes pickle.load keeps reading past mlsbom's opcode budget are not 'not a pickle'."""
    data = b"N0" * 200_000 + b"cposix\nsystem\n(S'true'\ntR."
    assert probe_file(io.BytesIO(data), len(data), Limits(max_opcodes=100_000))
    assert not probe_file(io.BytesIO(b"N0N0 text"), 9, Limits())
