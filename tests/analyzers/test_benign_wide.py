"""Quiet on ordinary files: the wide benign corpus (fixtures/gen_benign_wide.py) passes the gate.

Every object scikit-learn, pandas, numpy, scipy, torch, xgboost, lightgbm, catboost and
transformers save, in pickle protocols 2-5 and joblib with every compressor, scans with no finding
at HIGH or above. The whole torch model from a user's own package is the exception by design: it
needs that package's code to load, and the policy's `[pickle] allow_modules` accepts it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import shutil
from functools import cache
from pathlib import Path

import pytest

from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.errors import PolicyError
from mlsbom.models import ScanResult, Severity
from mlsbom.policy import Policy, apply, decide
from mlsbom.policy_file import load_policy
from mlsbom.rules import load_rules

WIDE = Path(__file__).resolve().parents[2] / "fixtures" / "benign_wide"
USER = WIDE / "user_package"
FILES = sorted(
    p for p in WIDE.rglob("*") if p.is_file() and p.suffix != ".txt" and USER not in p.parents
)
# Known gaps owned elsewhere, each naming the fix it waits for.
KNOWN: dict[str, str] = {}


@cache
def _scan() -> ScanResult:
    return scan([str(WIDE)], ScanConfig())


def _loud(path: Path) -> list[tuple[str, str]]:
    return [
        (f.rule_id, f.message)
        for f in _scan().findings
        if f.artifact.path == str(path) and f.severity >= Severity.HIGH
    ]


def test_corpus_is_wide() -> None:
    families = {p.parent.name for p in FILES}
    assert {"sklearn", "pandas", "numpy", "scipy", "torch", "xgboost", "lightgbm"} <= families
    assert len(FILES) >= 300
    suffixes = {"".join(p.suffixes[-2:]) for p in FILES}
    for variant in (".p2.pkl", ".p5.pkl", ".joblib", ".joblib.zlib", ".joblib.lz4", ".legacy.pt"):
        assert any(s.endswith(variant) for s in suffixes), variant


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(WIDE)) for p in FILES])
def test_ordinary_file_is_quiet(path: Path) -> None:
    known = [why for glob, why in KNOWN.items() if fnmatch.fnmatch(path.name, glob)]
    if known:
        pytest.xfail(known[0])
    assert _loud(path) == []


def test_corpus_passes_the_default_policy() -> None:
    result = _scan()
    decided = decide(apply(result, Policy()), Policy())
    failing = {
        Path(f.artifact.path).name
        for f in decided.violations
        if not any(fnmatch.fnmatch(Path(f.artifact.path).name, g) for g in KNOWN)
        and USER not in Path(f.artifact.path).parents
    }
    assert failing == set()


def test_torch_checkpoint_named_pth_tar_passes(tmp_path: Path) -> None:
    """A naming convention alone never fails the gate when the content is analysed."""
    ckpt = WIDE / "torch" / "checkpoint.pth.tar"
    result = scan([str(ckpt)], ScanConfig())
    assert decide(result, Policy()).passed
    # any pickle under a data name: the name is at most a low finding; the content is judged
    pickle_file = next(p for p in FILES if p.name.endswith(".p4.pkl"))
    for name in ("weights.json", "model.tar", "arrays.npy.txt", "data.csv"):
        shutil.copy(pickle_file, tmp_path / name)
    result = scan([str(tmp_path)], ScanConfig())
    mismatches = [f for f in result.findings if f.rule_id.startswith("extension-mismatch")]
    assert mismatches, "the mismatch is still reported"
    assert all(f.severity <= Severity.LOW for f in mismatches)
    assert decide(result, Policy()).passed


def test_user_package_model_needs_the_policy(tmp_path: Path) -> None:
    """A whole model from the user's package is an unknown import until the policy allows it."""
    result = scan([str(USER)], ScanConfig())
    targets = {
        f.message.split()[1] for f in result.findings if f.rule_id == "pickle-unknown-import"
    }
    assert targets == {"mypkg.models.Net"}
    assert not decide(apply(result, Policy()), Policy()).passed
    allowed = Policy(pickle_allow_modules=("mypkg",))
    assert decide(apply(result, allowed), allowed).passed
    for near_miss in (("mypk",), ("mypkg.other",), ("mypkg.models.Net2",), ("torch",)):
        policy = dataclasses.replace(allowed, pickle_allow_modules=near_miss)
        assert not decide(apply(result, policy), policy).passed, near_miss


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".mlsbom.toml", '[pickle]\nallow_modules = ["mypkg"]\n'),
        ("pyproject.toml", '[tool.mlsbom.pickle]\nallow_modules = ["mypkg.models"]\n'),
    ],
)
def test_allow_modules_from_policy_files(tmp_path: Path, name: str, text: str) -> None:
    rules = load_rules()
    path = tmp_path / name
    path.write_text(text)
    policy = load_policy(path, rules)
    result = scan([str(USER)], ScanConfig(), rules, policy=policy)
    assert decide(result, policy).passed
    waived = [f for f in result.findings if f.waived]
    assert waived and all(f.rule_id == "pickle-unknown-import" for f in waived)


@pytest.mark.parametrize(
    "value", ['"mypkg"', '["my*"]', '["mypkg."]', '["os system"]', "[1]", '[""]']
)
def test_allow_modules_must_be_module_names(tmp_path: Path, value: str) -> None:
    path = tmp_path / ".mlsbom.toml"
    path.write_text(f"[pickle]\nallow_modules = {value}\n")
    with pytest.raises(PolicyError, match=r"pickle\.allow_modules"):
        load_policy(path, load_rules())


def test_allow_modules_never_waives_a_dangerous_import(tmp_path: Path) -> None:
    rules = load_rules()
    path = tmp_path / "f.pkl"
    path.write_bytes(b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00true\x85R.")
    policy = Policy(pickle_allow_modules=("posix", "os"))
    result = scan([str(path)], ScanConfig(), rules, policy=policy)
    assert not decide(result, policy).passed
