"""The result cache: reused only for the very bytes analysed; no entry makes a file pass.

Hostile cases: planted, forged, copied, truncated, linked and foreign entries; a cache folder or
key open to others; a file swapped between the hash and the analysis; concurrent scans.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlsbom import analyse, pinned, result_cache
from mlsbom._cli import cli
from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.models import ArtifactRef
from mlsbom.pinned import Pinned
from mlsbom.result_cache import ResultCache, open_cache
from mlsbom.rules import load_rules
from mlsbom.serial import dump

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."
BENIGN = b"\x80\x04K\x01."
RULES = load_rules()


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSBOM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(result_cache, "MIN_BYTES", 0)  # the fixtures are small files


def json_scan(*args: str) -> str:
    result = CliRunner().invoke(cli, ["scan", *args, "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def rule_ids(out: str) -> set[str]:
    return {f["rule_id"] for a in json.loads(out)["artifacts"] for f in a["findings"]}


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "results").rglob("*.json"))


def store() -> ResultCache:
    opened = open_cache(ScanConfig(cache=True), RULES)
    assert opened is not None
    return opened


def lookup(path: Path) -> object:
    with Pinned(path) as p:
        return store().get(p.digest(), ArtifactRef(str(path)))


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(BENIGN)
    (folder / "evil.pkl").write_bytes(EVIL)
    return folder


@pytest.fixture()
def no_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on any analysis fails the test: results must come from the cache."""

    def fail(*args: object) -> object:
        raise AssertionError("analysed although cached")

    monkeypatch.setattr(analyse, "_scan_members", fail)


# --- the ordinary promises -------------------------------------------------------------------


def test_files_cheaper_to_scan_than_to_look_up_are_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(result_cache, "MIN_BYTES", 16 << 10)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "small.pkl").write_bytes(BENIGN)
    (tmp_path / "m" / "big.bin").write_bytes(BENIGN + bytes(20_000))
    json_scan(str(tmp_path / "m"), "--cache")
    assert lookup(tmp_path / "m" / "small.pkl") is None
    assert lookup(tmp_path / "m" / "big.bin") is not None


def test_second_run_is_identical_and_served_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    first = json_scan(str(target), "--cache")
    assert first == json_scan(str(target))
    monkeypatch.setattr(analyse, "_scan_members", None)  # a second analysis would crash
    assert json_scan(str(target), "--cache") == first


def test_cache_is_private_and_authenticated(model: Path, tmp_path: Path) -> None:
    json_scan(str(model), "--cache")
    root = tmp_path / "cache"
    assert os.stat(root).st_mode & 0o077 == 0
    assert os.stat(root / "key").st_mode & 0o777 == 0o600
    for entry in entries(tmp_path):
        mac, _, body = entry.read_bytes().partition(b"\n")
        assert len(mac) == 64 and json.loads(body)["schema"] == result_cache.SCHEMA


def test_changed_file_is_analysed_again(model: Path) -> None:
    (model / "evil.pkl").write_bytes(BENIGN)
    assert "pickle-dangerous-import" not in json_scan(str(model), "--cache")
    (model / "evil.pkl").write_bytes(EVIL)
    assert "pickle-dangerous-import" in json_scan(str(model), "--cache")


def test_same_content_under_another_name_is_judged_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "model.pkl").write_bytes(BENIGN)
    json_scan(str(tmp_path / "a"), "--cache")
    os.rename(tmp_path / "a" / "model.pkl", tmp_path / "a" / "model.safetensors")
    assert "extension-mismatch" in json_scan(str(tmp_path / "a"), "--cache")


def test_touched_file_with_same_content_hits_by_content(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = json_scan(str(model), "--cache")
    os.utime(model / "evil.pkl", ns=(1, 1))
    monkeypatch.setattr(analyse, "_scan_members", None)
    assert json_scan(str(model), "--cache") == first


def test_engine_cache_matches_no_cache() -> None:
    plain = scan([str(FIXTURES / "malicious")], ScanConfig())
    scan([str(FIXTURES / "malicious")], ScanConfig(cache=True))
    cached = scan([str(FIXTURES / "malicious")], ScanConfig(cache=True))
    assert cached == plain


def test_workers_share_the_cache(model: Path) -> None:
    first = json_scan(str(model), "--cache", "--jobs", "2")
    assert json_scan(str(model), "--cache", "--jobs", "2") == first == json_scan(str(model))


# --- entries that must not make a file pass ----------------------------------------------------


def _benign_entry(model: Path, tmp_path: Path) -> bytes:
    """A genuine entry for benign content, written by a scan of it."""
    json_scan(str(model), "--cache")
    with Pinned(model / "model.pkl") as p:
        key = p.digest()
    (found,) = [e for e in entries(tmp_path) if e.name.startswith(key)]
    return found.read_bytes()


def _entry_path(path: Path) -> Path:
    with Pinned(path) as p:
        return store()._entry(p.digest(), path.name)


def test_planted_entry_without_findings_is_rejected(model: Path, tmp_path: Path) -> None:
    """An attacker who can write to the cache plants 'no findings' for the malicious bytes."""
    _benign_entry(model, tmp_path)
    target = _entry_path(model / "evil.pkl")
    with Pinned(model / "evil.pkl") as p:
        key = p.digest()
    clean = scan([str(model / "model.pkl")], ScanConfig()).artifacts
    body = {
        "schema": result_cache.SCHEMA,
        "key": key,
        "name": "evil.pkl",
        "fingerprint": store().fingerprint,
        "results": dump([result_cache._rebase(r, ArtifactRef("")) for r in clean]),
    }
    raw = json.dumps(body).encode()
    for mac in (b"0" * 64, b"", b"not-hex", os.urandom(32).hex().encode()):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(mac + b"\n" + raw)
        os.chmod(target, 0o600)
        assert "pickle-dangerous-import" in json_scan(str(model), "--cache")


def test_authentic_entry_whose_findings_were_dropped_is_rejected(
    model: Path, tmp_path: Path
) -> None:
    """Even an entry signed with our key (an older, buggy mlsbom) cannot drop a finding."""
    json_scan(str(model), "--cache")
    cache = store()
    target = _entry_path(model / "evil.pkl")
    doc = json.loads(target.read_bytes().partition(b"\n")[2])
    for art in doc["results"]:
        art["findings"] = []
    body = json.dumps(doc).encode()
    target.write_bytes(cache._mac(body).encode() + b"\n" + body)
    assert "pickle-dangerous-import" in json_scan(str(model), "--cache")
    doc["results"] = []  # the file would disappear from the report
    body = json.dumps(doc).encode()
    target.write_bytes(cache._mac(body).encode() + b"\n" + body)
    out = json_scan(str(model), "--cache")
    assert "pickle-dangerous-import" in out and "evil.pkl" in out


def test_authentic_entry_carrying_findings_is_rejected(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Entries hold facts only (findings are made after the scan): one with findings of its own
    does not fit the schema, even when signed with our key."""
    json_scan(str(model), "--cache")
    cache = store()
    target = _entry_path(model / "evil.pkl")
    doc = json.loads(target.read_bytes().partition(b"\n")[2])
    judged = scan([str(model / "evil.pkl")], ScanConfig()).artifacts
    doc["results"][0]["findings"] = [
        {**f, "artifact": {"path": "", "member_chain": []}} for f in dump(list(judged[0].findings))
    ]
    assert doc["results"][0]["findings"]
    body = json.dumps(doc).encode()
    target.write_bytes(cache._mac(body).encode() + b"\n" + body)
    with caplog.at_level(logging.WARNING, "mlsbom"):
        assert "pickle-dangerous-import" in json_scan(str(model), "--cache")
    assert "does not fit its schema" in caplog.text


def test_entry_copied_from_another_file_is_rejected(model: Path, tmp_path: Path) -> None:
    raw = _benign_entry(model, tmp_path)
    target = _entry_path(model / "evil.pkl")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(raw)  # authentic, but it names other content
    os.chmod(target, 0o600)
    assert "pickle-dangerous-import" in json_scan(str(model), "--cache")


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],
        lambda raw: b"",
        lambda raw: raw.partition(b"\n")[0],
        lambda raw: os.urandom(300),
        lambda raw: raw.replace(b'"schema": 3', b'"schema": 4'),
        lambda raw: raw + b" ",
    ],
    ids=["truncated", "empty", "mac-only", "garbage", "schema", "trailing"],
)
def test_damaged_entries_are_ignored(model: Path, tmp_path: Path, damage: object) -> None:
    first = json_scan(str(model), "--cache")
    for entry in entries(tmp_path):
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert json_scan(str(model), "--cache") == first


def test_linked_entry_is_not_followed(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = _benign_entry(model, tmp_path)
    decoy = tmp_path / "decoy.json"
    decoy.write_bytes(raw)
    target = _entry_path(model / "evil.pkl")
    target.unlink()
    target.symlink_to(decoy)
    with caplog.at_level(logging.WARNING, "mlsbom"):
        assert "pickle-dangerous-import" in json_scan(str(model), "--cache")
    assert "ignored" in caplog.text


@pytest.mark.parametrize("how", ["group-writable", "other-owner"])
def test_entry_open_to_others_is_ignored(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    first = json_scan(str(model), "--cache")
    for entry in entries(tmp_path):
        if how == "group-writable":
            os.chmod(entry, 0o664)
        elif os.geteuid() == 0:
            os.chown(entry, 65534, 65534)
        else:
            pytest.skip("changing an owner needs root")
    with caplog.at_level(logging.WARNING, "mlsbom"):
        assert json_scan(str(model), "--cache") == first
    assert "cache entry" in caplog.text


@pytest.mark.parametrize("how", ["world-writable", "other-owner", "key-readable", "key-link"])
def test_cache_folder_open_to_others_is_ignored(
    model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    first = json_scan(str(model), "--cache")
    root = tmp_path / "cache"
    if how == "world-writable":
        os.chmod(root, 0o777)
    elif how == "key-readable":
        os.chmod(root / "key", 0o644)
    elif how == "key-link":
        (tmp_path / "my-key").write_bytes(os.urandom(32))
        os.chmod(tmp_path / "my-key", 0o600)
        (root / "key").unlink()
        (root / "key").symlink_to(tmp_path / "my-key")
    elif os.geteuid() == 0:
        os.chown(root, 65534, 65534)
    else:
        pytest.skip("changing an owner needs root")
    before = {e: e.stat().st_mtime_ns for e in entries(tmp_path)}
    with caplog.at_level(logging.WARNING, "mlsbom"):
        assert json_scan(str(model), "--cache") == first
    assert "result cache" in caplog.text and "ignored" in caplog.text
    assert {e: e.stat().st_mtime_ns for e in entries(tmp_path)} == before  # not written either


def test_warning_reaches_the_terminal(model: Path, tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir(mode=0o777)
    os.chmod(tmp_path / "cache", 0o777)
    env = {**os.environ, "MLSBOM_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", "mlsbom", "scan", "--cache", str(model)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1
    assert "warning: result cache" in done.stderr and "open to other users" in done.stderr


# --- races -------------------------------------------------------------------------------------


def _swap_after_digest(monkeypatch: pytest.MonkeyPatch, path: Path, content: bytes) -> None:
    """Rewrite `path` (same size, old times) right after the cache hashed it: a racing writer."""
    original = Pinned.digest

    def digest(self: Pinned) -> str:
        key = original(self)
        if self.path == path:
            st = path.stat()
            with open(path, "r+b") as f:
                f.write(content)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        return key

    monkeypatch.setattr(Pinned, "digest", digest)


def test_file_swapped_between_hash_and_analysis(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashed as malicious, analysed as benign: must not store 'benign' under the malicious key."""
    evil = model / "evil.pkl"
    harmless = b"(S'echo mlsbom-fixture'\np0\n." + b" " * (len(EVIL) - 27)
    harmless = harmless[: len(EVIL)]
    _swap_after_digest(monkeypatch, evil, harmless)
    out = json_scan(str(model), "--cache")
    assert "file-changed" in rule_ids(out)
    monkeypatch.undo()
    monkeypatch.setenv("MLSBOM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(result_cache, "MIN_BYTES", 0)
    evil.write_bytes(EVIL)
    assert "pickle-dangerous-import" in json_scan(str(model), "--cache")


def test_block_digests_catch_a_change_timestamps_miss(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coarse or frozen file times: the block digests alone still see the swap."""
    monkeypatch.setattr(pinned, "identity_of", lambda st: (0, 0, st.st_size, 0, 0))
    evil = model / "evil.pkl"
    _swap_after_digest(monkeypatch, evil, b"N" * len(EVIL))
    out = json_scan(str(model), "--cache")
    assert "file-changed" in rule_ids(out)
    assert lookup(evil) is None  # nothing stored for it


def test_file_changed_during_analysis_is_not_cached(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = analyse._scan_members

    def scan_then_write(item: object, config: object, rules: object, *more: object) -> object:
        results = original(item, config, rules, *more)  # type: ignore[arg-type]
        if str(getattr(item, "ref").path).endswith("evil.pkl"):
            with open(model / "evil.pkl", "ab") as f:
                f.write(b"appended")
        return results

    monkeypatch.setattr(analyse, "_scan_members", scan_then_write)
    out = json_scan(str(model), "--cache")
    assert "file-changed" in rule_ids(out)
    assert lookup(model / "evil.pkl") is None


# --- concurrency -------------------------------------------------------------------------------


def test_concurrent_key_creation_agrees_on_one_key(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    caches: list[ResultCache | None] = []
    threads = [
        threading.Thread(target=lambda: caches.append(open_cache(ScanConfig(), RULES, root)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = {c._key for c in caches if c is not None}
    assert len(caches) == 8 and len(keys) == 1
    assert [p.name for p in root.iterdir()] == ["key"]


def test_concurrent_scans_sharing_a_cache_agree(model: Path, tmp_path: Path) -> None:
    for n in range(6):  # above MIN_BYTES: the subprocesses cache them
        (model / f"copy{n}.pkl").write_bytes((EVIL if n % 2 else BENIGN) + bytes(20_000))
    env = {**os.environ, "MLSBOM_CACHE_DIR": str(tmp_path / "shared")}
    cmd = [sys.executable, "-m", "mlsbom", "scan", "--cache", "--format", "json", str(model)]
    env_min = {**env, "PYTHONWARNINGS": "ignore"}
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_min)
        for _ in range(4)
    ]
    outs = {p.communicate(timeout=300)[0] for p in procs}
    assert len(outs) == 1
    assert len(list((tmp_path / "shared" / "results").rglob("*.json"))) == 6  # per content and name
    again = subprocess.run(cmd, capture_output=True, env=env_min, check=False)
    assert again.stdout in outs
    assert not list((tmp_path / "shared").rglob(".tmp-*"))
    assert not list((tmp_path / "shared").glob(".key-*"))


def test_entry_planted_between_hash_and_lookup_is_rejected(
    model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A racing writer drops entries into place right after the digest, before the lookup."""
    genuine = _benign_entry(model, tmp_path)  # authentic, for other content
    evil = model / "evil.pkl"
    target = _entry_path(evil)
    original = Pinned.digest

    def digest(self: Pinned) -> str:
        key = original(self)
        if self.path == evil:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(genuine.replace(b"model.pkl", b"evil.pkl"))
            os.chmod(target, 0o600)
        return key

    monkeypatch.setattr(Pinned, "digest", digest)
    assert "pickle-dangerous-import" in json_scan(str(model), "--cache")
