"""File digests: the plain service, the hashing child and its fallbacks, and prefetching from
the command line (speed/)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from mlsbom import lifetime
from mlsbom.digests import Digest, Digests, InProcessDigests, sha256_file
from mlsbom.digests import hash_files as _hash_files
from mlsbom.file_identity import identity
from mlsbom.speed import child_digests, hash_child
from mlsbom.speed.child_digests import ChildDigests
from mlsbom.speed.hash_child import Prefetched
from mlsbom.speed.startup import prefetch

SERVICES = {"plain": InProcessDigests, "child": ChildDigests}


def hash_files(
    paths: list[Path], workers: int | None = None, prefetched: Prefetched | None = None
) -> Mapping[Path, Digest]:
    """With the hashing child (the fast service)."""
    return _hash_files(paths, ChildDigests(prefetched, workers=workers))


@pytest.fixture(autouse=True)
def _no_child_left() -> Iterator[None]:
    yield
    lifetime.stop_children()


def _files(tmp_path: Path, count: int = 5) -> list[Path]:
    out = []
    for n in range(count):
        path = tmp_path / f"f{n}.bin"
        path.write_bytes(os.urandom(n * 300_001))  # 0 bytes to 1.2 MB, across read sizes
        out.append(path)
    return out


def _expected(paths: list[Path]) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_child_digests_match_hashlib(tmp_path: Path) -> None:
    files = _files(tmp_path)
    assert dict(hash_files(files)) == _expected(files)
    assert dict(hash_files(files, workers=1)) == _expected(files)


def test_plain_and_child_services_give_the_same_digests(tmp_path: Path) -> None:
    files = [*_files(tmp_path), tmp_path / "gone.bin"]
    walked = {p: identity(p) for p in files}
    got = []
    for make in SERVICES.values():
        service: Digests = make()
        service.start(walked)
        got.append(dict(service.results()))
    plain, child = got
    assert {p: plain[p] for p in files[:-1]} == {p: child[p] for p in files[:-1]}
    assert {p: plain[p] for p in files[:-1]} == _expected(files[:-1])
    for answers in got:
        error = answers[files[-1]]
        assert isinstance(error, OSError) and error.errno == 2


@pytest.mark.parametrize("service", SERVICES)
def test_unreadable_and_vanished_files_are_errors(tmp_path: Path, service: str) -> None:
    files = _files(tmp_path, 2)
    gone = tmp_path / "gone.bin"
    folder = tmp_path / "folder"
    folder.mkdir()
    odd = tmp_path / "name\nwith newline \udcff.bin"
    odd.write_bytes(b"x")
    got = _hash_files([*files, gone, folder, odd], SERVICES[service]())
    error = got[gone]
    assert isinstance(error, OSError) and error.errno == 2
    assert isinstance(got[folder], OSError)
    assert got[odd] == hashlib.sha256(b"x").hexdigest()
    assert {p: got[p] for p in files} == _expected(files)


def test_hashes_in_threads_when_the_child_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(11, "no more processes")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "posix_spawn", refuse, raising=False)
    files = _files(tmp_path, 3)
    assert dict(hash_files(files)) == _expected(files)


def test_child_through_subprocess_where_posix_spawn_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "posix_spawn", raising=False)
    monkeypatch.setattr(child_digests, "_hash_in_threads", None)  # must not be needed
    files = _files(tmp_path, 3)
    assert dict(hash_files(files)) == _expected(files)


def test_a_child_that_answers_nonsense_is_not_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    liar = (
        "import sys; sys.stdin.read(); print('ok ' + 'ab' * 32 + ' 1 2 3 4 5'); "
        "print('ok ' + 'ab' * 32); sys.exit(3)"  # the second one names no identity
    )
    monkeypatch.setattr(hash_child, "SOURCE", liar.replace("%", "%%"))
    files = _files(tmp_path, 3)
    got = hash_files(files)
    assert got[files[0]] == "ab" * 32  # a well-formed answer is taken as given
    assert {p: got[p] for p in files[1:]} == _expected(files[1:])  # the rest hashed here


def test_prefetch_hashes_command_line_files_once(tmp_path: Path) -> None:
    files = _files(tmp_path, 2)
    early = prefetch(["scan", str(files[1]), "--sbom", str(tmp_path / "bom.json"), "--no-progress"])
    assert early is not None
    service = ChildDigests(early)
    service.start(dict.fromkeys([files[1].resolve(), files[0]]))  # the walk names the real path
    assert set(service._early) == {files[1].resolve()}
    assert service._todo == [files[0]]
    assert dict(service.results()) == _expected([files[1].resolve(), files[0]])


def test_a_file_changed_after_prefetch_is_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"before")
    early = prefetch(["sbom", str(path)])
    path.write_bytes(b"after, and longer")
    got = hash_files([path], prefetched=early)[path]
    assert got == hashlib.sha256(b"after, and longer").hexdigest()


@pytest.mark.parametrize(
    "argv",
    [[], ["scan", "FILE"], ["verify", "FILE"], ["rules"], ["scan", "--sbom"]],
)
def test_prefetch_only_for_commands_that_hash(tmp_path: Path, argv: list[str]) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    assert prefetch([str(path) if a == "FILE" else a for a in argv]) is None


def test_prefetch_hashes_the_files_in_folders_named(tmp_path: Path) -> None:
    """Regular files only (no link followed, nothing in .git), the largest first; a folder
    with too many entries, and the value of --keep, are left alone."""
    folder = tmp_path / "model"
    folder.mkdir()
    files = _files(folder, 4)
    (folder / ".git").mkdir()
    (folder / ".git" / "objects.pack").write_bytes(b"x" * 10)
    (folder / "link.bin").symlink_to(files[3])
    early = prefetch(["sbom", str(folder), "--keep", str(tmp_path)])
    assert early is not None
    assert sorted(early.identities.values()) == list(range(4))  # the four files, once each
    service = ChildDigests(early)
    service.start(dict.fromkeys(files))
    assert set(service._early) == set(files) and not service._todo
    assert dict(service.results()) == _expected(files)
    crowded = tmp_path / "crowded"
    crowded.mkdir()
    for n in range(1001):
        (crowded / f"{n}.txt").write_bytes(b"")
    assert prefetch(["sbom", str(crowded)]) is None
    assert prefetch(["scan", "--keep", str(folder), "--sbom", "bom.json"]) is None


def test_prefetch_takes_the_largest_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlsbom.speed import startup

    monkeypatch.setattr(startup, "_MAX_PREFETCH", 2)
    files = _files(tmp_path, 4)  # growing sizes
    early = prefetch(["sbom", str(tmp_path)])
    assert early is not None
    assert set(early.identities) == {identity(files[2]), identity(files[3])}


def test_console_entry_exits_with_the_command_code(tmp_path: Path) -> None:
    """`main` leaves without interpreter teardown: output and exit code must still be whole."""
    path = tmp_path / "model.bin"
    path.write_bytes(b"\x80\x02cos\nsystem\nq\x00.")
    bom = tmp_path / "bom.json"
    cmd = [sys.executable, "-m", "mlsbom", "scan", str(path), "--sbom", str(bom)]
    cmd += ["--format", "json"]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    assert "pickle-dangerous-import" in run.stdout
    json.loads(run.stdout)  # flushed whole before the fast exit
    assert sha256_file(path) in bom.read_text()
    usage = subprocess.run(cmd[:4], capture_output=True, text=True, check=False)
    assert usage.returncode == 2 and "no target given" in usage.stderr


def _sparse(tmp_path: Path) -> Path:
    big = tmp_path / "huge.bin"
    with open(big, "wb") as f:
        f.truncate(64 << 30)  # sparse: hashing it would take most of a minute
    return big


def test_children_never_collected_are_stopped(tmp_path: Path) -> None:
    child = hash_child.spawn([_sparse(tmp_path)], 1)
    assert child is not None
    pids = list(lifetime._RUNNING)
    lifetime.stop_children()
    assert pids and not lifetime._RUNNING
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert child.answers() == [None]  # killed: no answer, never a wrong one


def test_a_usage_error_leaves_no_child_hashing(tmp_path: Path) -> None:
    """`mlsbom sbom HUGE --typo` exits at once; its prefetching child must not outlive it."""
    code = (
        "import atexit, sys\n"
        "from mlsbom import lifetime\n"
        "from mlsbom.__main__ import main\n"
        "atexit.register(lambda: print(*lifetime._RUNNING, flush=True))\n"  # runs first (LIFO)
        f"sys.argv = ['mlsbom', 'sbom', {str(_sparse(tmp_path))!r}, '--no-such-option']\n"
        "main()\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 2, run.stderr
    pids = [int(p) for p in run.stdout.split()]
    assert pids
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
