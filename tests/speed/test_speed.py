"""The speed module's one switch: MLSBOM_NO_SPEEDUPS=1 runs the plain flow, with the same reports.

Tricks tested for what they do live beside the code they speed up (test_digests.py: the hashing
child, prefetching, the fast exit); here, the switch and the flow without them.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import mlsbom.speed
from mlsbom._cli import cli
from mlsbom.config import ScanConfig
from mlsbom.digests import InProcessDigests
from mlsbom.speed import SWITCH, Speedups, enabled
from mlsbom.speed.child_digests import ChildDigests

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
SIGNED = FIXTURES / "signing_interop" / "model-transparency" / "v1.0.0-sigstore"


@pytest.mark.parametrize(
    ("value", "on"),
    [(None, True), ("", True), ("0", True), ("no", True), ("1", False), ("yes", False)],
)
def test_the_switch(value: str | None, on: bool) -> None:
    assert enabled({} if value is None else {SWITCH: value}) is on


def test_off_means_the_plain_flow(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"\x80\x02K\x01.")
    plain = Speedups(enabled=False)
    began, digests = plain.begin([str(tmp_path)], ScanConfig(hash_files=True))
    assert began is None and isinstance(digests, InProcessDigests)  # the engine walks itself
    assert isinstance(plain.digests(), InProcessDigests)
    fast = Speedups()
    began, digests = fast.begin([str(tmp_path)], ScanConfig(hash_files=True))
    assert began is not None and began.hashing and isinstance(digests, ChildDigests)
    digests.results()


def _run(args: list[str], speedups: bool, cwd: Path) -> tuple[int, str, str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    env.pop(SWITCH, None)
    if not speedups:
        env[SWITCH] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    run = subprocess.run(
        [sys.executable, "-m", "mlsbom", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=cwd,
    )
    return run.returncode, run.stdout, run.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["sbom", "{fixtures}/sbom/full"],
        ["sbom", "{fixtures}/demo/model.safetensors", "{fixtures}/demo/config.json"],
        ["scan", "{fixtures}/demo", "--format", "json", "--sbom", "{tmp}/bom.json"],
        ["scan", "{signed}", "--format", "json", "--sbom", "{tmp}/bom.json"],
        ["verify", "{signed}", "--format", "json"],
    ],
    ids=["sbom-folder", "sbom-files", "scan-sbom", "scan-signed", "verify"],
)
def test_reports_are_the_same_with_and_without_speedups(tmp_path: Path, args: list[str]) -> None:
    reports = []
    for speedups in (True, False):
        out = tmp_path / ("fast" if speedups else "plain")
        out.mkdir()
        given = [a.format(fixtures=FIXTURES, tmp=out, signed=SIGNED) for a in args]
        code, stdout, stderr = _run(given, speedups, tmp_path)
        assert code in (0, 1), stderr
        bom = out / "bom.json"
        reports.append((code, stdout, bom.read_text() if bom.exists() else None))
    assert reports[0] == reports[1]
    _, fast_out, fast_bom = reports[0]
    json.loads(fast_bom or fast_out)  # a whole document, flushed before the fast exit


def test_cli_without_the_console_entry_follows_the_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CliRunner (as tests and embedding callers use it) asks the switch; a `Speedups` given as
    the click object wins."""
    target = str(FIXTURES / "demo" / "model.safetensors")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    runner = CliRunner()
    fast = runner.invoke(cli, ["sbom", target])
    monkeypatch.setenv(SWITCH, "1")
    plain = runner.invoke(cli, ["sbom", target])
    monkeypatch.delenv(SWITCH)
    given = runner.invoke(cli, ["sbom", target], obj=Speedups(enabled=False))
    assert fast.exit_code == plain.exit_code == given.exit_code == 0, fast.output
    assert fast.output == plain.output == given.output


def test_no_module_state_in_the_speed_work() -> None:
    """What the tricks need lives in the `Speedups` value: no `global` statement and no mutable
    container at module level in speed/ or the digest service."""
    folder = Path(mlsbom.speed.__file__).parent
    sources = [*sorted(folder.glob("*.py")), ROOT / "mlsbom" / "digests.py"]
    for path in sources:
        tree = ast.parse(path.read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Global)], path
        for node in tree.body:
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            mutable = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
            assert not isinstance(value, mutable), f"{path.name}:{node.lineno}"
            is_cache = isinstance(node, ast.FunctionDef) and any(
                "cache" in ast.unparse(d) for d in node.decorator_list
            )
            assert not is_cache, f"{path.name}:{node.lineno}"


def test_the_schema_workarounds_keep_the_checks() -> None:
    """jsonschema imported without unused format checkers (importable again after), and the
    fast validator still refuses a bad date-time and a duplicate in a uniqueItems array."""
    code = """
import json, sys
from cyclonedx.schema import SchemaVersion
from mlsbom.speed.schema import UNUSED_FORMAT_CHECKERS, fast_validator
v = fast_validator(SchemaVersion.V1_6)
assert "rfc3987_syntax" not in sys.modules
assert all(sys.modules.get(m, 1) is not None for m in UNUSED_FORMAT_CHECKERS)
base = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1}
assert v.validate_str(json.dumps(base)) is None
bad_date = {**base, "metadata": {"timestamp": "yesterday"}}
assert v.validate_str(json.dumps(bad_date)) is not None
tool = {"name": "x", "type": "application"}
twice = {**base, "components": [tool, tool]}
assert "non-unique" in str(v.validate_str(json.dumps(twice)))
import idna
print("ok")
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert run.stdout.strip() == "ok", run.stderr
