"""Coverage-free fuzzing of every parser with hypothesis, seeded from the committed fixtures.

Each harness takes a real fixture of its format, mutates it (byte flips, truncation, insertion,
duplication of a slice, length fields overwritten with huge values) and scans the result through
the engine under tight limits. A crash is any `internal-error` fact (the engine's last-resort
boundary), an exception, a warning that would reach the user's stderr, or a scan that overruns
its time budget.

    MLSBOM_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py -q -s   # the long run (default: 40 each)

Each harness prints how many inputs it scanned (shown with -s).

Crashes found become regression fixtures in fixtures/malformed (see gen_malformed.py).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsbom.analyse import analyse_file as _scan_file
from mlsbom.config import Limits, ScanConfig
from mlsbom.facts import InternalError
from mlsbom.models import ArtifactRef
from mlsbom.rules import load_rules
from mlsbom.sources import BytesSource
from mlsbom.walk import WalkItem

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXAMPLES = int(os.environ.get("MLSBOM_FUZZ_EXAMPLES", "40"))
CONFIG = ScanConfig(limits=Limits(max_seconds=5, max_member_bytes=16 << 20, max_opcodes=2_000_000))
RULES = load_rules()

HARNESSES: dict[str, list[str]] = {
    "pickle": ["malicious/*.pkl", "benign/*.pkl"],
    "zip": ["benign/*.pt", "containers/archives/*.zip", "benign/*.npz"],
    "tar": ["containers/archives/*.tar", "containers/archives/*.tar.gz"],
    "safetensors": ["weights/safetensors/*.safetensors", "demo/*.safetensors"],
    "gguf": ["weights/gguf/*.gguf"],
    "onnx": ["weights/onnx/*.onnx"],
    "keras": ["containers/keras/*.keras"],
    "notebook": ["repo_code/*/*.ipynb"],
    "chat-template": ["repo_code/tpl/*.jinja", "repo_code_real/*.jinja"],
    "python": ["repo_code/py/*.py"],
    "savedmodel": ["weights/tf/*/saved_model.pb"],
    "numpy": ["benign/*.npy", "demo/head/*.npy"],
}


def seeds(patterns: list[str]) -> list[Path]:
    found = sorted({p for pattern in patterns for p in FIXTURES.glob(pattern) if p.is_file()})
    return [p for p in found if p.stat().st_size <= (2 << 20)][:40]


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not out:
            out += draw(st.binary(min_size=1, max_size=64))
            continue
        pos = draw(st.integers(0, len(out) - 1))
        action = draw(st.sampled_from(["flip", "truncate", "insert", "dup", "huge"]))
        if action == "flip":
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif action == "truncate":
            del out[pos:]
        elif action == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=32))
        elif action == "dup":
            end = min(len(out), pos + draw(st.integers(1, 256)))
            out[pos:pos] = out[pos:end]
        else:  # a length or count field announcing terabytes
            out[pos : pos + 8] = draw(
                st.sampled_from([b"\xff" * 8, (1 << 40).to_bytes(8, "little")])
            )
    return bytes(out)


def check(name: str, data: bytes) -> None:
    item = WalkItem(ArtifactRef(f"fuzz/{name}"), BytesSource(data), len(data))
    start = time.monotonic()
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        results = _scan_file(item, CONFIG, RULES)
    elapsed = time.monotonic() - start
    crashes = [f for r in results for f in r.facts if isinstance(f, InternalError)]
    assert not crashes, crashes
    assert not warned, [str(w.message) for w in warned]
    assert elapsed < 30, f"{name}: {elapsed:.1f} s"


@pytest.mark.parametrize("parser", sorted(HARNESSES))
def test_fuzz(parser: str) -> None:
    files = seeds(HARNESSES[parser])
    if not files:
        pytest.skip(f"no seed fixtures for {parser} (run fixtures/generate.py)")
    corpus = [(p.name, p.read_bytes()) for p in files]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.sampled_from(corpus).flatmap(lambda s: mutated(s[1]).map(lambda d: (s[0], d))))
    def run(case: tuple[str, bytes]) -> None:
        executions.append(1)
        check(*case)

    executions: list[int] = []
    run()
    print(f"\nfuzz {parser}: {len(executions)} inputs scanned, none crashed")
