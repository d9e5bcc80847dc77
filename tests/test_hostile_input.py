"""Hostile and malformed input: every case ends as findings within time and memory; no crash."""

from __future__ import annotations

import os
import random
import resource
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsbom.config import Limits, ScanConfig
from mlsbom.engine import scan
from mlsbom.models import Severity

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

MALFORMED = sorted(p for p in (FIXTURES / "malformed").glob("*") if p.is_file())
sys.path.insert(0, str(FIXTURES))
VALID_BUT_HOSTILE: frozenset[str] = getattr(
    __import__("gen_malformed"), "VALID_BUT_HOSTILE", frozenset()
)
SMALL = ScanConfig(limits=Limits(max_seconds=10, max_member_bytes=64 << 20))


def _scan_file(path: Path) -> tuple[float, list[str]]:
    start = time.monotonic()
    result = scan([str(path)], SMALL)
    return time.monotonic() - start, [f.rule_id for f in result.findings]


@pytest.mark.skipif(not MALFORMED, reason="fixtures/malformed not generated")
@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_malformed_fixture_is_a_finding(path: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    elapsed, rule_ids = _scan_file(path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert elapsed < 15
    assert grown_mb < 300
    if path.name not in VALID_BUT_HOSTILE:
        result = scan([str(path)], SMALL)
        assert any(f.severity >= Severity.HIGH for f in result.findings), rule_ids


def test_random_bytes_under_pickle_names_fail_closed(tmp_path: Path) -> None:
    rng = random.Random(7)
    for ext in (".pkl", ".pt", ".pth", ".joblib"):
        path = tmp_path / f"random{ext}"
        path.write_bytes(bytes(rng.getrandbits(8) for _ in range(2048)))
        result = scan([str(path)], SMALL)
        assert any(f.severity >= Severity.HIGH for f in result.findings), ext


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=512), name=st.sampled_from(["a.pkl", "b.pt", "c.bin", "d.npy", "e"]))
def test_arbitrary_bytes_never_crash(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = scan([str(path)], SMALL)
    assert all(f.rule_id != "internal-error" for f in result.findings), result.findings


def test_zip_bomb_is_a_limit_finding(tmp_path: Path) -> None:
    import gen_malformed

    bomb = tmp_path / "bomb.pt"
    gen_malformed.zip_bomb(bomb, 256 << 20)
    assert bomb.stat().st_size < 2 << 20
    elapsed, rule_ids = _scan_file(bomb)
    assert "limit-exceeded" in rule_ids
    assert elapsed < 15


def test_nested_zip_bomb_is_bounded(tmp_path: Path) -> None:
    import gen_malformed

    bomb = tmp_path / "nested.zip"
    gen_malformed.nested_zip_bomb(bomb, depth=5, width=10)
    start = time.monotonic()
    result = scan([str(bomb)], ScanConfig(limits=Limits(max_artifacts=500)))
    assert time.monotonic() - start < 15
    assert "limit-exceeded" in {f.rule_id for f in result.findings}
    assert len(result.artifacts) <= 501


def test_file_that_shrinks_while_scanned_is_a_finding(tmp_path: Path) -> None:
    """The walk saw a bigger file than the analyser reads (it changed in between)."""
    from mlsbom.analyse import analyse_file as _scan_file
    from mlsbom.judge import judged
    from mlsbom.models import ArtifactRef
    from mlsbom.rules import load_rules
    from mlsbom.sources import FileSource
    from mlsbom.walk import WalkItem

    path = tmp_path / "model.safetensors"
    header = b'{"w":{"dtype":"U8","shape":[4096],"data_offsets":[0,4096]}}'
    header += b" " * (-len(header) % 8)
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(100))  # cut short
    item = WalkItem(ArtifactRef(str(path)), FileSource(path, 1 << 20), 1 << 20)
    rules = load_rules()
    results = [judged(r, rules) for r in _scan_file(item, SMALL, rules)]  # analysis makes facts
    assert any(f.severity >= Severity.HIGH for r in results for f in r.findings)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
@pytest.mark.parametrize("child", [True, False], ids=["child", "plain"])
def test_file_swapped_for_a_fifo_after_the_walk_is_a_finding(tmp_path: Path, child: bool) -> None:
    """Opening a FIFO blocks until a writer comes: analysis and hashing must refuse it instead."""
    from mlsbom.config import ScanConfig
    from mlsbom.digests import InProcessDigests
    from mlsbom.engine import scan
    from mlsbom.prescan import start
    from mlsbom.speed.child_digests import ChildDigests

    path = tmp_path / "model.bin"
    path.write_bytes(b"\x80\x02K\x01.")
    service = ChildDigests() if child else InProcessDigests()
    began = start([str(tmp_path)], ScanConfig(), service)  # walked as a regular file
    path.unlink()
    os.mkfifo(path)
    result = scan([str(tmp_path)], ScanConfig(hash_files=True), began=began)
    (art,) = result.artifacts
    assert any(f.severity >= Severity.HIGH for f in art.findings)
    assert art.sha256 is None


def test_the_cli_bounds_its_address_space(tmp_path: Path) -> None:
    """`mlsbom` caps its own memory (MLSBOM_MAX_MEMORY); a runaway ends as a finding, not a swap."""
    import os
    import subprocess

    code = (
        "import resource, sys\n"
        "from mlsbom.config import Limits, cap_address_space\n"
        "cap_address_space(Limits().max_address_space)\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0])\n"
    )
    env = {**os.environ, "MLSBOM_MAX_MEMORY": str(3 << 30)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert int(out.stdout) == 3 << 30
    demo = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
    env["MLSBOM_MAX_MEMORY"] = str(1 << 30)
    scan_run = subprocess.run(
        [sys.executable, "-m", "mlsbom", "scan", str(demo)], capture_output=True, text=True, env=env
    )
    assert scan_run.returncode == 1 and "pickle-dangerous-import" in scan_run.stdout
