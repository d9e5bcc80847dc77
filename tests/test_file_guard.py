"""Files that change while scanned or hashed are findings, and never get a digest.

Each change is made at a precise point of the scan through a hook (after the head was read,
after the analysis, while hashing), not by racing a sleeping writer.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlsbom import analyse, digests, pinned
from mlsbom.config import ScanConfig
from mlsbom.digests import InProcessDigests, sha256_file
from mlsbom.engine import scan
from mlsbom.file_identity import ChangedWhileRead
from mlsbom.models import ScanResult
from mlsbom.prescan import start
from mlsbom.speed import child_digests
from mlsbom.speed.child_digests import ChildDigests

EVIL = b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR."


def rules_of(result: ScanResult) -> set[str]:
    return {f.rule_id for f in result.findings}


def _after_analysis(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    original = analyse._scan_members

    def scan_then_change(*args: object) -> object:
        results = original(*args)  # type: ignore[arg-type]
        change()
        return results

    monkeypatch.setattr(analyse, "_scan_members", scan_then_change)


@pytest.fixture()
def weights(tmp_path: Path) -> Path:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"w": list(range(1000))}, protocol=4))
    return path


def _keep_times(path: Path, write: Callable[[], None]) -> None:
    st = path.stat()
    write()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the writer hides its tracks


@pytest.mark.parametrize(
    "change",
    ["append", "truncate", "rewrite-same-size", "touch", "replace-inode"],
)
def test_change_during_analysis_is_a_finding(
    weights: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    data = weights.read_bytes()

    def act() -> None:
        if change == "append":
            with open(weights, "ab") as f:
                f.write(b"\0")
        elif change == "truncate":
            os.truncate(weights, len(data) // 2)
        elif change == "rewrite-same-size":
            _keep_times(weights, lambda: weights.write_bytes(data[::-1]))
        elif change == "touch":
            os.utime(weights, ns=(1, 1))
        else:
            weights.with_suffix(".new").write_bytes(data)
            os.replace(weights.with_suffix(".new"), weights)

    _after_analysis(monkeypatch, act)
    result = scan([str(weights)], ScanConfig())
    assert "file-changed" in rules_of(result), change


def test_bytes_that_differ_between_two_reads_of_one_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Detection sees harmless bytes, the analysis would see a pickle: the block check refuses."""
    path = tmp_path / "model.safetensors"
    header = b'{"__metadata__":{}}'
    harmless = len(header).to_bytes(8, "little") + header
    path.write_bytes(harmless + b" " * (len(EVIL) + 10 - len(harmless)))
    monkeypatch.setattr(pinned, "KEEP", 0)  # every read goes back to the disk
    original = analyse._read_head

    def head_then_swap(source: object, n: int) -> bytes:
        head = original(source, n)  # type: ignore[arg-type]
        size = path.stat().st_size
        _keep_times(path, lambda: path.write_bytes(EVIL.ljust(size, b" ")))
        return head

    monkeypatch.setattr(analyse, "_read_head", head_then_swap)
    monkeypatch.setattr(pinned, "identity_of", lambda st: (0, 0, st.st_size, 0, 0))  # coarse times
    result = scan([str(path)], ScanConfig())
    assert "file-changed" in rules_of(result)


def test_file_replaced_between_walk_and_analysis(weights: Path) -> None:
    began = start([str(weights)], ScanConfig(), InProcessDigests())
    weights.with_suffix(".new").write_bytes(EVIL)
    os.replace(weights.with_suffix(".new"), weights)
    result = scan([str(weights)], ScanConfig(), began=began)
    assert {"file-changed", "pickle-dangerous-import"} <= rules_of(result)


@pytest.mark.parametrize("service", [InProcessDigests, ChildDigests], ids=["plain", "child"])
def test_unchanged_file_is_quiet_and_hashed(weights: Path, service: type) -> None:
    os.utime(weights, ns=(5, 5))  # touched before the scan: nothing changes during it
    result = scan([str(weights)], ScanConfig(hash_files=True), digests=service())
    assert "file-changed" not in rules_of(result)
    assert result.artifacts[0].sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()


# --- hashing: a digest only of bytes that existed as a whole, in the file as walked ------------


class _MutatingSha:
    """hashlib.sha256 whose first update also appends to a file: a write during the hash."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._h = hashlib.sha256()
        self._done = False

    def update(self, data: object) -> None:
        if not self._done:
            self._done = True
            with open(self._path, "ab") as f:
                f.write(b"x")
        self._h.update(data)  # type: ignore[arg-type]

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def test_in_process_hash_refuses_a_file_written_meanwhile(
    weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digests, "hashlib", SimpleNamespace(sha256=lambda: _MutatingSha(weights)))
    with pytest.raises(ChangedWhileRead):
        sha256_file(weights)


@pytest.mark.parametrize("service", ["plain", "child-threads"])
def test_bom_has_no_digest_for_a_file_changed_while_hashed(
    weights: Path, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    monkeypatch.setattr(child_digests, "spawn", lambda *a: None)  # hash here, after the analysis
    monkeypatch.setattr(digests, "hashlib", SimpleNamespace(sha256=lambda: _MutatingSha(weights)))
    chosen = InProcessDigests() if service == "plain" else ChildDigests()
    result = scan([str(weights)], ScanConfig(hash_files=True), digests=chosen)
    assert result.artifacts[0].sha256 is None
    assert "file-changed" in rules_of(result)


@pytest.mark.parametrize("service", ["child", "threads", "plain"])
def test_digest_of_a_file_rewritten_since_the_walk_is_refused(
    weights: Path, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    if service == "threads":
        monkeypatch.setattr(child_digests, "spawn", lambda *a: None)
    began = start([str(weights)], ScanConfig(), InProcessDigests())  # walked, not hashing yet
    _keep_times(weights, lambda: weights.write_bytes(weights.read_bytes()[::-1]))
    chosen = InProcessDigests() if service == "plain" else ChildDigests()
    chosen.start({weights: _walked_identity(began)})
    got = chosen.results()[weights]
    assert isinstance(got, ChangedWhileRead)


def _walked_identity(began: object) -> tuple[int, int, int, int, int]:
    (item,) = [i for _, found in began.walked for i in found]  # type: ignore[attr-defined]
    assert item.identity is not None
    return item.identity  # type: ignore[no-any-return]


def test_hashing_child_refuses_a_file_growing_under_it(tmp_path: Path) -> None:
    """The child's own before/after check: a sparse file grows while the child reads it."""
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(3 << 30)
    service = ChildDigests()
    service.start({big: None})
    assert service._child is not None
    _wait_until_open(big)
    with open(big, "ab") as f:
        f.write(b"grown")
    got = service.results()[big]
    assert isinstance(got, ChangedWhileRead), got


def _wait_until_open(path: Path) -> None:
    """Until some process of ours holds `path` open (the child started reading it)."""
    import time

    from mlsbom.lifetime import _RUNNING

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for pid in list(_RUNNING):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                        return
                except OSError:
                    pass
        time.sleep(0.01)
    pytest.skip("the child was never seen reading the file")


def test_pinned_reads_are_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeks and reads of every size across block edges return exactly the file's bytes."""
    import random

    monkeypatch.setattr(pinned, "BLOCK", 4096)
    monkeypatch.setattr(pinned, "KEEP", 2)
    data = random.Random(7).randbytes(4096 * 5 + 123)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    rnd = random.Random(8)
    with pinned.Pinned(path) as p:
        f = p.open()
        assert f.read() == data and f.read(10) == b""
        for _ in range(300):
            where = rnd.randrange(len(data) + 50)
            n = rnd.choice([0, 1, 7, 4095, 4096, 4097, 20_000])
            f.seek(where)
            assert f.read(n) == data[where : where + n]
        assert f.seek(-5, os.SEEK_END) == len(data) - 5 and f.read() == data[-5:]
        key = p.digest()
        assert p.check() is None
    path.write_bytes(data[:-1] + b"!")
    with pinned.Pinned(path) as p:
        assert p.digest() != key
    path.write_bytes(data)
    with pinned.Pinned(path) as p:
        assert p.digest() == key
