"""Registry sweeps: --targets-from, --format jsonl, --sbom-dir, --resume.

Hub targets are served by the stand-in on 127.0.0.1 (fixtures/hub_standin.py): 50 tiny repositories.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli
from mlsbom._cli_sweep import SweepOptions, run_sweep
from mlsbom.hub import etiquette
from mlsbom.sweep import read_targets
from mlsbom.sweep_output import bom_stem, read_lines

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
from hub_standin import StandIn, sweep_repo_files, sweep_repos

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEMO = str(FIXTURES / "demo")
REPOS = 50


@pytest.fixture()
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    with StandIn(sweep_repos(REPOS)) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        monkeypatch.setenv("MLSBOM_HUB_TIMEOUT", "2")
        etiquette.reset()
        yield server


def hub_targets(count: int = REPOS) -> list[str]:
    return [f"hf://sweep/model-{n:04d}" for n in range(count)]


def failing(n: int) -> bool:
    return "training_args.bin" in sweep_repo_files(n)


@pytest.fixture()
def repos(tmp_path: Path) -> list[str]:
    """Five local repositories, the fourth (n=3) with a pickle that runs a command."""
    out = []
    for n in range(5):
        folder = tmp_path / "repos" / f"r{n}"
        folder.mkdir(parents=True)
        for name, data in sweep_repo_files(n).items():
            (folder / name).write_bytes(data)
        out.append(str(folder))
    return out


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["scan", "--no-policy", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def findings(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(a["display"], f["rule_id"]) for a in doc["artifacts"] for f in a["findings"]}


# --targets-from


def test_targets_from_a_file_with_comments_and_blank_lines(
    tmp_path: Path, repos: list[str]
) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text(f"# a registry\n\n{repos[1]}\n   \n  {repos[2]}  \n# {repos[3]}\n")
    assert read_targets(str(listing)) == [repos[1], repos[2]]
    code, out, err = run(repos[0], "--targets-from", str(listing), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["targets"] == repos[:3]  # positional first, then the file's


def test_targets_from_stdin(repos: list[str]) -> None:
    code, out, err = run("--targets-from", "-", "--format", "jsonl", stdin="\n".join(repos))
    assert code == 1, err
    assert [d["target"] for d in lines(out)] == repos


def test_targets_from_a_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done: list[int] = []
    t = threading.Thread(target=lambda: done.append(run("--targets-from", str(fifo))[0]))
    t.start()
    t.join(20)
    assert done == [2]


def test_a_bad_line_is_an_error_before_anything_is_scanned(
    tmp_path: Path, repos: list[str]
) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text(f"{repos[0]}\n{tmp_path / 'missing'}\n")
    out_file = tmp_path / "out.jsonl"
    for fmt in ("json", "jsonl"):
        code, _, err = run("--targets-from", str(listing), "--format", fmt, "-o", str(out_file))
        assert code == 2 and "target not found" in err
        assert not out_file.exists() or out_file.read_text() == ""
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(repos[0], str(empty), "--format", "jsonl")
    assert code == 2 and "holds no files" in err
    code, _, err = run(repos[0], "hf://../etc", "--format", "jsonl")
    assert code == 2 and "not a hub repository" in err


# --format jsonl


def test_jsonl_lines_match_the_json_report_per_target(repos: list[str]) -> None:
    code, out, err = run(*repos, "--format", "jsonl")
    whole_code, whole, _ = run(*repos, "--format", "json")
    assert code == whole_code == 1, err
    docs = lines(out)
    assert [d["target"] for d in docs] == repos
    assert [d["verdict"] for d in docs] == ["fail" if n == 3 else "pass" for n in range(5)]
    whole_doc = json.loads(whole)
    assert set().union(*(findings(d) for d in docs)) == findings(whole_doc)
    by_path = {a["display"]: a for a in whole_doc["artifacts"]}
    for doc in docs:
        for art in doc["artifacts"]:
            assert art == by_path[art["display"]]  # the JSON report's encoding
    assert sum(d["summary"]["findings"] for d in docs) == whole_doc["summary"]["findings"]
    assert "sweep: 5 targets (0 resumed): 4 passed, 0 warned, 1 failed, 0 errors" in err


def test_jsonl_passing_sweep_exits_0(repos: list[str]) -> None:
    code, out, err = run(repos[0], repos[1], "--format", "jsonl")
    assert code == 0, err
    assert [d["verdict"] for d in lines(out)] == ["pass", "pass"]


def test_an_interrupted_sweep_keeps_its_lines(tmp_path: Path, repos: list[str]) -> None:
    out_file = tmp_path / "out.jsonl"
    calls: list[str] = []

    def judge(target: str) -> Any:
        from mlsbom.config import ScanConfig
        from mlsbom.policy import Policy
        from mlsbom.rules import load_rules
        from mlsbom.sweep import judge_targets

        calls.append(target)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return judge_targets(ScanConfig(), load_rules(), Policy())(target)

    with pytest.raises(KeyboardInterrupt):
        run_sweep(SweepOptions(), tuple(repos), judge, "jsonl", out_file, "1.6", False)
    assert [d["target"] for d in lines(out_file.read_text())] == repos[:2]


def test_hub_sweep_reports_bytes_per_target_and_in_total(hub: StandIn) -> None:
    code, out, err = run(*hub_targets(), "--format", "jsonl")
    assert code == 1, err
    docs = lines(out)
    assert len(docs) == REPOS
    assert {d["target"] for d in docs if d["verdict"] == "fail"} == {
        t for n, t in enumerate(hub_targets()) if failing(n)
    }
    assert all(d["summary"]["hub_bytes_read"] > 0 for d in docs)
    assert all(d["revision"] == hub.repos[d["target"][5:]].commit for d in docs)
    read = sum(d["summary"]["hub_bytes_read"] for d in docs)
    held = sum(d["summary"]["bytes_total"] for d in docs)
    assert f"hub: read {read:,} of {held:,} bytes" in err


def test_a_target_that_cannot_be_walked_is_an_error_line(hub: StandIn) -> None:
    targets = [*hub_targets(2), "hf://sweep/gone", *hub_targets(3)[2:]]
    code, out, err = run(*targets, "--format", "jsonl")
    assert code == 2
    docs = lines(out)
    assert [d["verdict"] for d in docs] == ["pass", "pass", "error", "pass"]
    assert "repository not found" in docs[2]["error"]
    assert "error: hf://sweep/gone: repository not found" in err


# --sbom-dir


def test_sbom_dir_writes_one_bom_per_target(tmp_path: Path, hub: StandIn, repos: list[str]) -> None:
    folder = tmp_path / "boms"
    targets = [*hub_targets(3), repos[0], repos[3]]
    code, out, err = run(*targets, "--sbom-dir", str(folder))
    assert code == 1, err
    assert "FAIL" in out  # the text report of the whole sweep
    index = lines((folder / "index.jsonl").read_text())
    assert [e["target"] for e in index] == targets
    commit = hub.repos["sweep/model-0001"].commit
    assert index[1]["sbom"] == f"sweep__model-0001@{commit}.cdx.json"
    assert index[3]["sbom"].startswith("repos__r0-") or "__r0-" in index[3]["sbom"]
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["index.jsonl", *(e["sbom"] for e in index)])
    for entry in index:
        bom = json.loads((folder / entry["sbom"]).read_text())
        assert bom["bomFormat"] == "CycloneDX"
    hub_bom = json.loads((folder / index[1]["sbom"]).read_text())
    assert hub_bom["metadata"]["component"]["purl"] == f"pkg:huggingface/sweep/model-0001@{commit}"


def test_bom_names_are_safe_and_distinct() -> None:
    stems = {
        bom_stem(t, None)
        for t in ("a/b", "a__b", "a_b", "../../etc/passwd", "/abs/x", "x/./y", ".hidden")
    }
    assert len(stems) == 7
    for stem in stems:
        assert "/" not in stem and "\\" not in stem and not stem.startswith(".")
        assert ".." not in stem.split("-")[0].split("__")
    assert bom_stem("hf://org/name@refs/pr/1", None) == "org__name@refs_pr_1"
    assert bom_stem("hf://datasets/org/data", "abc") == "datasets__org__data@abc"


def test_colliding_hub_names_get_a_hash(tmp_path: Path) -> None:
    from mlsbom.sweep_output import SbomDir

    folder = SbomDir(tmp_path, "1.6", resume=False)
    first = folder.name_for("hf://a__b/c", None)
    second = folder.name_for("hf://a/b__c", None)
    folder.close()
    assert first == "a__b__c.cdx.json" and second != first and second.startswith("a__b__c-")


def test_sbom_dir_is_checked_before_the_scan(tmp_path: Path, repos: list[str]) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    code, _, err = run(repos[0], "--sbom-dir", str(afile))
    assert code == 2 and "--sbom-dir" in err and "is a file" in err
    code, _, err = run(repos[0], "--sbom-dir", str(tmp_path / "no" / "such"))
    assert code == 2 and "cannot create" in err


# --resume


def test_resume_after_a_killed_run(tmp_path: Path, hub: StandIn) -> None:
    out_file = tmp_path / "out.jsonl"
    folder = tmp_path / "boms"
    args = ("--format", "jsonl", "-o", str(out_file), "--sbom-dir", str(folder))
    code, _, err = run(*hub_targets(), *args)
    assert code == 1, err
    full = lines(out_file.read_text())
    # a run killed while writing line 21: 20 complete lines and half of the next
    raw = out_file.read_text().splitlines(keepends=True)
    out_file.write_text("".join(raw[:20]) + raw[20][: len(raw[20]) // 2])
    index = (folder / "index.jsonl").read_text().splitlines(keepends=True)
    (folder / "index.jsonl").write_text("".join(index[:25]))
    hub.requests.clear()
    code, _, err = run(*hub_targets(), *args, "--resume")
    assert code == 1, err
    assert f"sweep: {REPOS} targets (20 resumed)" in err
    listed = [r for r in hub.requests if r.startswith("GET /api/models/")]
    assert len(listed) == REPOS - 20
    docs = lines(out_file.read_text())
    assert [d["target"] for d in docs] == hub_targets()
    assert [d["verdict"] for d in docs] == [d["verdict"] for d in full]
    assert len(list(folder.glob("*.cdx.json"))) == REPOS


def test_resumed_failures_still_fail_the_sweep(tmp_path: Path, repos: list[str]) -> None:
    out_file = tmp_path / "out.jsonl"
    code, _, _ = run(*repos, "--format", "jsonl", "-o", str(out_file))
    assert code == 1
    code, _, err = run(*repos, "--format", "jsonl", "-o", str(out_file), "--resume")
    assert code == 1 and "(5 resumed)" in err
    assert len(lines(out_file.read_text())) == 5


def test_error_lines_are_redone_on_resume(tmp_path: Path, hub: StandIn) -> None:
    out_file = tmp_path / "out.jsonl"
    targets = [*hub_targets(2), "hf://sweep/late"]
    code, _, _ = run(*targets, "--format", "jsonl", "-o", str(out_file))
    assert code == 2
    hub.repos["sweep/late"] = sweep_repos(1, org="x")["x/model-0000"]
    code, _, err = run(*targets, "--format", "jsonl", "-o", str(out_file), "--resume")
    assert code == 0 and "(2 resumed)" in err
    assert {t: r.verdict for t, r in read_lines(out_file, False).items()} == {
        t: "pass" for t in targets
    }


def test_resume_needs_an_output(repos: list[str]) -> None:
    code, _, err = run(repos[0], "--format", "jsonl", "--resume")
    assert code == 2 and "--resume needs an output" in err


def test_a_sweep_through_429s_on_every_request(
    hub: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(*hub_targets(), "--format", "jsonl")
    assert code == 1, err
    etiquette.reset()
    with StandIn(sweep_repos(REPOS), throttle_each=1, retry_after="0") as throttled:
        monkeypatch.setenv("HF_ENDPOINT", throttled.endpoint)
        slow_code, slow_out, err = run(*hub_targets(), "--format", "jsonl")
        assert throttled.throttled >= 4 * REPOS  # the listing and every ranged read
    assert slow_code == code, err
    strip = ("seconds",)
    assert [{k: v for k, v in d.items() if k not in strip} for d in lines(slow_out)] == [
        {k: v for k, v in d.items() if k not in strip} for d in lines(out)
    ]


def test_whole_run_reports_of_a_sweep_match_a_normal_scan(
    tmp_path: Path, hub: StandIn, repos: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    targets = [repos[0], repos[3], *hub_targets(4)]
    outputs = {}
    for name, extra in (("sweep", ["--format", "jsonl"]), ("normal", [])):
        files = {kind: tmp_path / f"{name}.{kind}" for kind in ("json", "sarif", "sbom")}
        code, _, err = run(
            *targets, *extra, *(arg for k, p in files.items() for arg in (f"--{k}", str(p)))
        )
        assert code == 1, err
        outputs[name] = {k: p.read_text() for k, p in files.items()}
    assert outputs["sweep"] == outputs["normal"]


def test_policy_artefacts_are_merged_once(tmp_path: Path, repos: list[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        "[[waivers]]\nrule = 'pickle-format'\npath = '*'\nreason = 'old'\nexpires = 2020-01-01\n"
    )
    docs = []
    for extra in (["--format", "jsonl", "--json"], ["--format", "json", "-o"]):
        out = tmp_path / f"{extra[1]}.json"
        result = CliRunner().invoke(
            cli, ["scan", "--policy", str(policy), repos[0], repos[1], *extra, str(out)]
        )
        assert result.exit_code == 1, result.stderr
        docs.append(out.read_text())
    assert docs[0] == docs[1]
    assert docs[0].count("policy-waiver-expired") == 2  # one artefact: its fact and finding


def test_a_runner_may_finish_targets_in_any_order(tmp_path: Path, repos: list[str]) -> None:
    from mlsbom.config import ScanConfig
    from mlsbom.policy import Policy
    from mlsbom.rules import load_rules
    from mlsbom.sweep import judge_targets, merged, sweep

    def backwards(targets: Any, judge: Any) -> Any:
        return reversed(list(sweep(targets, judge)))

    judge = judge_targets(ScanConfig(), load_rules(), Policy())
    out_file = tmp_path / "out.jsonl"
    code, kept = run_sweep(
        SweepOptions(), tuple(repos), judge, "jsonl", out_file, "1.6", True, backwards
    )
    assert code == 1
    assert [d["target"] for d in lines(out_file.read_text())] == repos[::-1]  # as they finish
    assert merged(kept).targets == tuple(repos)  # whole-run reports in the input order


class _Recorder:
    def __init__(self) -> None:
        self.started: list[int] = []
        self.advanced = 0
        self.finished = False

    def start(self, files: int, total_bytes: int) -> None:
        self.started.append(files)

    def advance(self, nbytes: int) -> None:
        self.advanced += 1

    def finish(self) -> None:
        self.finished = True


def test_a_sweep_shows_targets_done(repos: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """In a sweep the progress bar counts targets as they complete, whoever analysed them."""
    import mlsbom._cli as cli_module

    bars: dict[str, _Recorder] = {}

    def recorder(enabled: bool = True, unit: str = "files") -> _Recorder:
        return bars.setdefault(unit, _Recorder())

    monkeypatch.setattr(cli_module, "terminal_progress", recorder)
    result = CliRunner().invoke(cli, ["scan", *repos, "--format", "jsonl", "--no-policy"])
    assert result.exit_code in (0, 1), result.output
    bar = bars["targets"]
    assert bar.started == [len(repos)] and bar.advanced == len(repos) and bar.finished
