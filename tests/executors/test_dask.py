"""The Dask executor: identical output to the local executors, workers on 127.0.0.1 only, and
a file whose worker dies is a fail-closed finding, never a gap."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.wire import analyse_json

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A local cluster of two worker processes, listening on loopback only."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model plus a malicious pickle, a zip holding one, and a folder of small files."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(FIXTURES / "demo", root / "demo", ignore=shutil.ignore_patterns("head"))
    (root / "evil.pkl").write_bytes(EVIL)
    import zipfile

    with zipfile.ZipFile(root / "bundle.zip", "w") as zf:
        zf.writestr("inner/data.pkl", EVIL)
        zf.writestr("inner/ok.json", "{}")
    for n in range(12):
        (root / f"notes-{n}.json").write_text(json.dumps({"n": n}))
    return root


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout


def _timeless(text: str) -> str:
    """Reports without the fields that measure time."""
    text = re.sub(r'"(seconds|elapsed|duration)[a-z_]*": [0-9.e-]+', '"t": 0', text)
    return re.sub(r'"(timestamp|serialNumber)": "[^"]*"', '"t": ""', text)


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_reports_match_the_local_executor(scheduler: str, repo: Path, fmt: str) -> None:
    local = _cli("scan", str(repo), "--format", fmt)
    jobs = _cli("scan", str(repo), "--format", fmt, "--jobs", "2")
    dask = _cli("scan", str(repo), "--format", fmt, "--executor", scheduler)
    assert local[0] == jobs[0] == dask[0] == 1
    assert _timeless(dask[1]) == _timeless(local[1]) == _timeless(jobs[1])


def test_sbom_matches_the_local_executor(
    scheduler: str, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    boms = []
    for executor in ("local", scheduler.replace("tcp://", "dask://")):
        out = tmp_path / f"{len(boms)}.cdx.json"
        code, _ = _cli("sbom", str(repo), "-o", str(out), "--executor", executor)
        assert code == 0
        boms.append(out.read_text())
    assert boms[0] == boms[1]


def test_the_environment_variable_chooses_the_executor(
    scheduler: str, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLSBOM_EXECUTOR", scheduler)
    code, out = _cli("scan", str(repo / "evil.pkl"), "--format", "json")
    assert code == 1 and "pickle-dangerous-import" in out


def test_a_local_cluster_is_started_and_stopped(repo: Path) -> None:
    code, out = _cli("scan", str(repo / "bundle.zip"), "--executor", "dask", "-j", "1")
    assert code == 1 and "pickle-dangerous-import" in out


def dying_task(header: str, item: str) -> str:
    """A task that kills its worker process for one file (a stand-in for a crash or OOM kill)."""
    if "evil.pkl" in item:  # the task holding it dies, then it alone
        os._exit(17)
    return analyse_json(header, item)


def raising_task(header: str, item: str) -> str:
    """A task that raises on the worker for one file (retried, then given up)."""
    if "evil.pkl" in item:
        raise RuntimeError("worker-side failure")
    return analyse_json(header, item)


def garbling_task(header: str, item: str) -> str:
    """A task whose answer for one file is not a result encoding at all."""
    if "evil.pkl" in item:
        return '[{"results": "not a list of results", "bytes_read": 0}]'
    return analyse_json(header, item)


@pytest.mark.parametrize("task", [dying_task, raising_task, garbling_task])
def test_a_file_whose_task_fails_is_a_finding(repo: Path, task: Any) -> None:
    """Dead worker, raised error or unreadable answer: the file alone becomes a finding, every
    other file keeps the results of a local scan."""
    from mlsbom.executors.dask import DaskExecutor

    executor = DaskExecutor(None, 2, task=task)
    try:
        result = scan([str(repo)], ScanConfig(), executor=executor)
    finally:
        executor.close()
    local = scan([str(repo)], ScanConfig())
    by_path = {a.ref.path: a for a in result.artifacts}
    lost = by_path[f"{repo}/evil.pkl"]
    assert [f.rule_id for f in lost.findings] == ["internal-error"]
    assert "executor dask lost this file" in lost.findings[0].message
    others = [a for a in result.artifacts if not a.ref.path.endswith("/evil.pkl")]
    assert others == [a for a in local.artifacts if not a.ref.path.endswith("/evil.pkl")]


def test_a_bad_executor_is_a_usage_error(repo: Path) -> None:
    code, _ = _cli("scan", str(repo), "--executor", "spark://x")
    assert code == 2


def test_missing_extra_is_a_usage_error(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    result = CliRunner().invoke(cli, ["scan", str(repo / "evil.pkl"), "--executor", "dask"])
    assert result.exit_code == 2
    assert "mlsbom[dask]" in result.stderr


def test_an_unreachable_scheduler_is_a_usage_error(repo: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = CliRunner().invoke(
        cli, ["scan", str(repo / "evil.pkl"), "--executor", f"dask://127.0.0.1:{port}"]
    )
    assert result.exit_code == 2


@pytest.mark.usefixtures("hub")
def test_hub_files_are_read_by_the_workers(scheduler: str) -> None:
    """Workers read hub files by range themselves; the report (bytes read included) is the
    local one."""
    local = _cli("scan", "hf://acme/demo", "--format", "json")
    dask = _cli("scan", "hf://acme/demo", "--format", "json", "--executor", scheduler)
    assert local[0] == dask[0] == 1
    assert _timeless(dask[1]) == _timeless(local[1])
    assert '"bytes_read": 0' not in dask[1].split('"kind": "hub-repository"')[1][:2000]


@pytest.fixture()
def many_repos(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Forty stand-in hub repositories (every tenth with a pickle that runs a command)."""
    import sys

    sys.path.insert(0, str(FIXTURES))
    from hub_standin import StandIn, sweep_repos

    repos = sweep_repos(40, org="sweep")
    with StandIn(repos) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        yield [f"hf://{r}" for r in repos]


def _lines(text: str) -> list[dict[str, object]]:
    docs = [json.loads(line) for line in text.splitlines()]
    for doc in docs:
        doc.pop("seconds", None)
    return sorted(docs, key=lambda d: str(d["target"]))


def test_a_hub_sweep_matches_the_local_executor(
    scheduler: str, many_repos: list[str], tmp_path: Path
) -> None:
    """Targets judged concurrently on the cluster give the lines, verdicts and BOMs of a serial
    sweep (the order of lines follows completion; their content does not)."""
    listing = tmp_path / "targets.txt"
    listing.write_text("\n".join(many_repos) + "\n")
    outputs = []
    for executor in ("local", scheduler):
        boms = tmp_path / f"boms-{len(outputs)}"
        args = ["scan", "--targets-from", str(listing), "--format", "jsonl", "--no-policy"]
        code, out = _cli(*args, "--sbom-dir", str(boms), "--executor", executor)
        assert code == 1  # every tenth repository runs a command
        bom_texts = {p.name: _timeless(p.read_text()) for p in boms.glob("*.cdx.json")}
        outputs.append((_lines(out), bom_texts))
    (local, local_boms), (dask, dask_boms) = outputs
    assert len(local) == len(many_repos) and dask == local
    assert [d["verdict"] for d in local].count("fail") == 4
    assert dask_boms == local_boms and len(local_boms) == len(many_repos)
