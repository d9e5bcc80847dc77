"""Results survive the JSON round trip used between worker processes (no pickle anywhere)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.serial import SerialError, dump, load_results

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize(
    "folder", ["malicious", "malformed", "weights", "containers", "repo_code", "demo", "sbom"]
)
def test_round_trip(folder: str) -> None:
    results = list(scan([str(FIXTURES / folder)], ScanConfig(hash_files=True)).artifacts)
    assert load_results(json.loads(json.dumps(dump(results)))) == results


@pytest.mark.parametrize(
    "value",
    [
        {},
        [{"ref": {"path": "x"}}],
        [{"ref": {"path": 1, "member_chain": []}, "format": "pickle", "size": 1, "facts": [],
          "findings": []}],
        [{"ref": {"path": "x", "member_chain": []}, "format": "nope", "size": 1, "facts": [],
          "findings": []}],
        [{"ref": {"path": "x", "member_chain": []}, "format": "pickle", "size": 1,
          "facts": [{"kind": "no-such-fact"}], "findings": []}],
    ],
)  # fmt: skip
def test_bad_input_is_a_serial_error(value: object) -> None:
    with pytest.raises(SerialError):
        load_results(value)
