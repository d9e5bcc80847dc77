"""The command line: exit codes, report formats, policy and rule commands."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlsbom._cli import cli

EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    (tmp_path / "ok.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=4))
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_benign_folder_passes(repo: Path) -> None:
    code, out, _ = run("scan", str(repo))
    assert code == 0
    assert "PASS:" in out and "pickle-format" in out


def test_malicious_file_fails_with_rule_location_and_fix(repo: Path) -> None:
    (repo / "evil.bin").write_bytes(EVIL)
    code, out, _ = run("scan", str(repo))
    assert code == 1
    assert "pickle-dangerous-import" in out
    assert "@ stream 0, offset 0" in out
    assert "os.system('echo mlsbom-fixture')" in out
    assert "fix:" in out
    assert out.rstrip().splitlines()[-1].startswith("FAIL:")


def test_missing_target_is_exit_2(tmp_path: Path) -> None:
    code, _, err = run("scan", str(tmp_path / "nope"))
    assert code == 2
    assert "target not found" in err


def test_unsupported_scheme_is_exit_2() -> None:
    code, _, err = run("scan", "s3://bucket/model")
    assert code == 2 and "unsupported target" in err


def test_no_target_is_usage_error() -> None:
    assert run("scan")[0] == 2


def test_json_report_is_stable_and_complete(repo: Path, tmp_path: Path) -> None:
    (repo / "evil.pkl").write_bytes(EVIL)
    out_file = tmp_path / "report.json"
    code, out, _ = run("scan", str(repo), "--format", "json", "-o", str(out_file))
    assert code == 1 and out == ""
    doc = json.loads(out_file.read_text())
    assert doc["schema_version"] == 1 and doc["passed"] is False
    evil = next(a for a in doc["artifacts"] if a["path"].endswith("evil.pkl"))
    assert evil["verdict"] == "fail" and evil["format"] == "pickle"
    finding = evil["findings"][0]
    assert finding["rule_id"] == "pickle-dangerous-import"
    assert finding["location"] == {"offset": 0, "stream": "0", "detail": None}
    assert finding["severity"] == "critical" and "CWE-502" in finding["cwe"]
    assert [a["path"] for a in doc["artifacts"]] == sorted(a["path"] for a in doc["artifacts"])


def test_fail_on_threshold(repo: Path) -> None:
    (repo / "odd.pkl").write_bytes(b"\x80\x04\x8c\x08mystery_\x8c\x03fun\x93)R.")
    assert run("scan", str(repo))[0] == 1
    assert run("scan", str(repo), "--fail-on", "critical")[0] == 0
    assert run("scan", str(repo), "--fail-on", "low")[0] == 1


def test_policy_file_disables_and_overrides(repo: Path, tmp_path: Path) -> None:
    policy = tmp_path / ".mlsbom.toml"
    policy.write_text(
        'fail_on = "low"\n[rules]\ndisable = ["pickle-format"]\n'
        'severity = { extension-mismatch = "info" }\n'
    )
    code, out, _ = run("scan", str(repo), "--policy", str(policy))
    assert code == 0, out
    assert "pickle-format" not in out


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("fail_on = 'severe'\n", "fail_on"),
        ("nonsense = 1\n", "unknown key"),
        ("[rules]\ndisable = ['no-such-rule']\n", "unknown rule id"),
        ("fail_on = \n", "not valid TOML"),
    ],
)
def test_bad_policy_is_exit_2_with_location(
    repo: Path, tmp_path: Path, text: str, needle: str
) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text(text)
    code, _, err = run("scan", str(repo), "--policy", str(policy))
    assert code == 2
    assert str(policy) in err or "TOML" in err
    assert needle in err
    assert "hint:" in err or "TOML" in err


def test_pyproject_policy(repo: Path, tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[tool.mlsbom]\nfail_on = "low"\n')
    assert run("scan", str(repo), "--policy", str(pyproject))[0] == 1


def test_explain_adds_fickling_decompilation(repo: Path) -> None:
    (repo / "evil.pkl").write_bytes(EVIL)
    code, out, _ = run("scan", str(repo / "evil.pkl"), "--explain")
    assert code == 1
    assert "decompiled by fickling" in out and "system('echo mlsbom-fixture')" in out


def test_rules_list_and_explain() -> None:
    code, out, _ = run("rules", "list")
    assert code == 0 and "pickle-dangerous-import" in out
    code, out, _ = run("rules", "explain", "pickle-unknown-import")
    assert code == 0 and "fix:" in out and "severity: high" in out
    assert run("rules", "explain", "nope")[0] == 2


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and "mlsbom" in out


def test_jobs_output_is_identical_to_one_job() -> None:
    """Worker processes change nothing but the wall time."""
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    targets = [str(fixtures / "malicious"), str(fixtures / "repo_code"), str(fixtures / "demo")]
    one = CliRunner().invoke(cli, ["scan", *targets, "--format", "json", "--jobs", "1"])
    two = CliRunner().invoke(cli, ["scan", *targets, "--format", "json", "--jobs", "2"])
    assert one.exit_code == two.exit_code == 1, two.stderr
    assert one.stdout == two.stdout


def test_progress_is_told_every_file() -> None:
    from mlsbom.config import ScanConfig
    from mlsbom.engine import scan
    from mlsbom.progress import RichProgress

    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[str, int, int]] = []

        def start(self, files: int, total_bytes: int) -> None:
            self.calls.append(("start", files, total_bytes))

        def advance(self, nbytes: int) -> None:
            self.calls.append(("advance", nbytes, 0))

        def finish(self) -> None:
            self.calls.append(("finish", 0, 0))

    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
    recorder = Recorder()
    scan([str(fixtures)], ScanConfig(progress=recorder))
    start, *advances, finish = recorder.calls
    assert start[0] == "start" and finish[0] == "finish"
    assert len(advances) == start[1] and sum(a[1] for a in advances) == start[2]
    bar = RichProgress()  # renders to stderr; must not fail off a terminal either
    bar.start(2, 10)
    bar.advance(5)
    bar.advance(5)
    bar.finish()


# --- outputs: several reports from one scan, paths checked before the scan ------------------------


def test_one_scan_writes_every_report(repo: Path, tmp_path: Path) -> None:
    (repo / "evil.bin").write_bytes(EVIL)
    out = tmp_path / "reports"
    out.mkdir()
    args = ["scan", str(repo), "--format", "json", "--no-policy"]
    for fmt in ("text", "json", "sarif", "junit", "markdown"):
        args += [f"--{fmt}", str(out / f"r.{fmt}")]
    code, stdout, _ = run(*args)
    assert code == 1
    assert (out / "r.json").read_text() == stdout  # the same scan, the same report
    assert (out / "r.text").read_text().rstrip().splitlines()[-1].startswith("FAIL:")
    assert json.loads((out / "r.sarif").read_text())["version"] == "2.1.0"
    assert (out / "r.junit").read_text().startswith("<?xml")
    assert "mlsbom failed" in (out / "r.markdown").read_text()


@pytest.mark.parametrize(
    ("option", "path", "message"),
    [
        ("-o", "missing/report.txt", "does not exist"),
        ("--sarif", "missing/out.sarif", "does not exist"),
        ("--sbom", "missing/bom.json", "does not exist"),
        ("--junit", "/proc/1/no-such-dir/x.xml", "does not exist"),
        ("--json", "/proc/1/report.json", "cannot write"),
        ("--markdown", "a-file/report.md", "does not exist"),
    ],
)
def test_bad_output_paths_fail_before_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, path: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    import mlsbom.engine

    monkeypatch.setattr(mlsbom.engine, "scan", lambda *a, **k: pytest.fail("scanned"))
    code, out, err = run("scan", "evil.pkl", option, path)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_output_that_is_a_directory_or_named_twice(tmp_path: Path) -> None:
    (tmp_path / "evil.pkl").write_bytes(EVIL)
    code, _, err = run("scan", str(tmp_path / "evil.pkl"), "-o", str(tmp_path))
    assert code == 2 and "is a directory" in err
    same = str(tmp_path / "r.txt")
    code, _, err = run("scan", str(tmp_path / "evil.pkl"), "-o", same, "--text", same)
    assert code == 2 and "both write" in err
    assert not (tmp_path / "r.txt").exists()  # the probe leaves nothing behind


# --- usage errors and hints -------------------------------------------------------------------


def test_empty_folder_is_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "only-git" / ".git").mkdir(parents=True)
    for target in ("empty", "only-git"):
        code, _, err = run("scan", str(tmp_path / target))
        assert code == 2 and "nothing to scan" in err


@pytest.mark.parametrize("target", ["hf://org", "hf://org/name@", "hf://datasets/org"])
def test_incomplete_hub_targets_are_usage_errors(target: str) -> None:
    code, _, err = run("scan", target)
    assert code == 2 and "hf://" in err


def test_unknown_rule_ids_get_a_suggestion(tmp_path: Path) -> None:
    code, _, err = run("rules", "show", "pickle-dangerous-imports")
    assert code == 2 and "did you mean 'pickle-dangerous-import'" in err
    policy = tmp_path / "p.toml"
    policy.write_text('[rules]\ndisable = ["pickle-formats"]\n')
    (tmp_path / "w.json").write_text("{}")
    code, _, err = run("scan", str(tmp_path / "w.json"), "--policy", str(policy))
    assert code == 2 and "did you mean 'pickle-format'" in err
    assert run("rules", "show", "pickle-format")[0] == 0


def test_help_names_the_environment_variables() -> None:
    _, out, _ = run("scan", "--help")
    for name in ("MLSBOM_FAIL_ON", "MLSBOM_POLICY", "MLSBOM_SARIF_REPORT", "MLSBOM_JOBS"):
        assert name in out
    _, out, _ = run("--help")
    assert "MLSBOM_CACHE_DIR" in out and "MLSBOM_MAX_MEMORY" in out


def test_skip_project_code_keeps_loader_modules(tmp_path: Path) -> None:
    from mlsbom.project_code import split_project_code

    (tmp_path / "train.py").write_text("import subprocess\n")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(
        '{"auto_map": {"AutoModel": "modeling_x.X", "AutoConfig": "other/repo--conf.C"}}'
    )
    (model / "modeling_x.py").write_text("x = 1\n")
    (model / "conf.py").write_text("x = 1\n")  # named, but from another repository
    pipe = tmp_path / "pipe"
    (pipe / "unet").mkdir(parents=True)
    (pipe / "model_index.json").write_text('{"unet": ["my_unet", "MyUNet"]}')
    (pipe / "unet" / "my_unet.py").write_text("x = 1\n")
    files = [str(p) for p in sorted(tmp_path.rglob("*.py"))] + [str(model / "config.json")]
    kept, skipped = split_project_code(files)
    assert {Path(p).name for p in kept} == {"modeling_x.py", "my_unet.py", "config.json"}
    assert {Path(p).name for p in skipped} == {"train.py", "conf.py"}
    code, out, _ = run("scan", "--skip-project-code", str(tmp_path / "train.py"))
    assert code == 0 and out == "PASS: 1 project Python file, none a model loader reads\n"
