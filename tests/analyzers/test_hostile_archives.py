"""Hostile containers end as limit findings after a bounded amount of *counted* work.

Each bomb is built at test time (fixtures/gen_bombs.py) into tmp_path. The assertions are on
the verdict (a `limit-exceeded` finding, exit 1) and on the work the engine counted for the
file (`WorkBudget`: bytes inflated, artefacts), never on the clock: the same verdict holds on
a busy machine and a quiet one.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import subprocess
import sys
import textwrap
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlsbom import analyse
from mlsbom.budget import WorkBudget
from mlsbom.config import Limits, ScanConfig
from mlsbom.engine import scan
from mlsbom.models import ScanResult

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "fixtures"))

import gen_bombs  # noqa: E402

MiB = 1 << 20


@pytest.fixture
def budgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[WorkBudget]]:
    """Every WorkBudget the engine makes, to read what work it counted."""
    made: list[WorkBudget] = []

    def recording(limits: Limits, physical: int | None = None, **kw: object) -> WorkBudget:
        made.append(WorkBudget(limits, physical, **kw))  # type: ignore[arg-type]
        return made[-1]

    monkeypatch.setattr(analyse, "WorkBudget", recording)
    yield made


def _limits(result: ScanResult) -> set[str]:
    return {
        f.limit  # type: ignore[attr-defined]
        for a in result.artifacts
        for f in a.facts
        if f.kind == "limit-exceeded"
    }


def _assert_bounded(result: ScanResult, budgets: list[WorkBudget], bomb: Path) -> None:
    """A limit finding, after at most max(slack, ratio x file size) inflated bytes (plus the
    one chunk in flight when the budget ran out)."""
    limits = Limits()
    assert "limit-exceeded" in {f.rule_id for f in result.findings}
    assert budgets, "the engine made no budget"
    size = bomb.stat().st_size
    bound = max(limits.ratio_slack_bytes, (limits.max_ratio + 1) * size) + 2 * MiB
    assert sum(b.inflated for b in budgets) <= bound
    assert len(result.artifacts) <= limits.max_artifacts + 1


# 42.zip-style nesting: each level decompressed once, the leaves stopped by ratio.
@pytest.mark.parametrize(
    ("depth", "width", "leaf"),
    [(5, 16, 64 * MiB), (4, 10, 8 * MiB), (6, 4, 12 * MiB)],
    ids=["leaf-over-ratio-floor", "leaves-under-floor", "deep-narrow"],
)
def test_nested_zip_bombs(
    tmp_path: Path, budgets: list[WorkBudget], depth: int, width: int, leaf: int
) -> None:
    bomb = gen_bombs.nested_zip(tmp_path / "42.zip", depth, width, leaf)
    result = scan([str(bomb)], ScanConfig())
    _assert_bounded(result, budgets, bomb)


def test_nested_levels_are_decompressed_once(tmp_path: Path, budgets: list[WorkBudget]) -> None:
    """Three levels of small zips: the bytes inflated equal one pass over each level."""
    inner = gen_bombs._zip_of([(f"m{i}.txt", b"x" * 4000) for i in range(30)])
    middle = gen_bombs._zip_of([(f"i{i}.zip", inner) for i in range(5)])
    outer = tmp_path / "outer.zip"
    outer.write_bytes(gen_bombs._zip_of([("m.zip", middle)]))
    result = scan([str(outer)], ScanConfig())
    assert not _limits(result)
    one_pass = len(middle) + 5 * len(inner) + 5 * 30 * 4000
    assert budgets[0].inflated <= one_pass + 5 * 30 * 64 * 1024  # plus each leaf's head read


# Overlapping entries (David Fifield's non-recursive bombs): shared bytes are charged once.
@pytest.mark.parametrize(
    "make",
    [
        lambda d: gen_bombs.overlap_full_zip(d / "full.zip", entries=3000, kernel_bytes=4 * MiB),
        lambda d: gen_bombs.overlap_full_zip(d / "tiny.zip", entries=9000, kernel_bytes=MiB),
        lambda d: gen_bombs.overlap_quoted_zip(d / "q.zip", entries=800, kernel_bytes=4 * MiB),
        lambda d: gen_bombs.overlap_quoted_zip(d / "q2.zip", entries=3000, kernel_bytes=MiB),
    ],
    ids=["full", "full-small-kernel", "quoted", "quoted-small-kernel"],
)
def test_overlapping_entry_zips(tmp_path: Path, budgets: list[WorkBudget], make: object) -> None:
    bomb = make(tmp_path)  # type: ignore[operator]
    result = scan([str(bomb)], ScanConfig())
    _assert_bounded(result, budgets, bomb)
    assert any(
        getattr(f, "anomaly", "").startswith("overlapping-data")
        for a in result.artifacts
        for f in a.facts
    )


def _stored_zip_of_zeros(n: int) -> bytes:
    """A zip holding one stored member of `n` zeros: read whole when analysed (spooled)."""
    z = gen_bombs._Zip()
    z.add("zeros.bin", bytes(n), 0, 0, n)
    return z.finish()


def _tar_of_zeros(n: int) -> bytes:
    """A tar with one member of `n` zeros: read whole when analysed (spooled)."""
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(tarfile.TarInfo("zeros.bin"), io.BytesIO(b""))
    head = bytearray(buf.getvalue()[:512])
    head[124:136] = b"%011o\0" % n
    head[148:156] = b" " * 8
    head[148:156] = b"%06o\0 " % sum(head)
    return bytes(head) + bytes(n) + bytes(-n % 512) + bytes(1024)


def test_many_small_deflate_members_hit_the_file_ratio(
    tmp_path: Path, budgets: list[WorkBudget]
) -> None:
    """Members each under the declared-ratio floor, each read whole (they are zips): the
    whole-file ratio stops them."""
    inner = _stored_zip_of_zeros(12 * MiB)
    z = gen_bombs._Zip()
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = comp.compress(inner) + comp.flush()
    for i in range(300):
        z.add(f"w/{i}.zip", raw, 8, zlib.crc32(inner), len(inner))
    bomb = tmp_path / "many.zip"
    bomb.write_bytes(z.finish())
    result = scan([str(bomb)], ScanConfig())
    _assert_bounded(result, budgets, bomb)
    assert "compression-ratio" in _limits(result)


def test_lying_declared_size_bounds_the_read(tmp_path: Path, budgets: list[WorkBudget]) -> None:
    """A header claiming 1 MiB over 256 MiB of deflate: loaders stop at the claim; so do we."""
    bomb = gen_bombs.lying_zip(tmp_path / "lie.pt", real_bytes=256 * MiB, claimed=MiB)
    scan([str(bomb)], ScanConfig())
    assert budgets[0].inflated <= 4 * MiB


# Single-stream codecs: the decompressed child is charged as it is read.
@pytest.mark.parametrize("codec", ["gzip", "bz2", "xz"])
def test_single_stream_bombs(tmp_path: Path, budgets: list[WorkBudget], codec: str) -> None:
    payload = _tar_of_zeros(96 * MiB)  # a tar is read whole (spooled), so all of it inflates
    data = {
        "gzip": lambda: gzip.compress(payload, 6, mtime=0),
        "bz2": lambda: bz2.compress(payload, 1),
        "xz": lambda: lzma.compress(payload, preset=0),
    }[codec]()
    bomb = tmp_path / f"bomb.tar.{codec}"
    bomb.write_bytes(data)
    result = scan([str(bomb)], ScanConfig())
    _assert_bounded(result, budgets, bomb)


# tar with hundreds of thousands of members, plain and through gzip (spooled once).
@pytest.mark.parametrize("compressed", [False, True], ids=["tar", "tar.gz"])
def test_tar_with_many_members(tmp_path: Path, budgets: list[WorkBudget], compressed: bool) -> None:
    make = gen_bombs.many_member_tgz if compressed else gen_bombs.many_member_tar
    bomb = make(tmp_path / ("many.tar.gz" if compressed else "many.tar"), 200_000)
    result = scan([str(bomb)], ScanConfig())
    assert "limit-exceeded" in {f.rule_id for f in result.findings}
    assert "container-members" in _limits(result)
    assert len(result.artifacts) <= Limits().max_members + 3
    # the decompressed tar is spooled once (within ratio x size), never once per member
    assert budgets[0].inflated <= Limits().max_ratio * bomb.stat().st_size


# 7z: declared limits before decompressing, the budget while streaming to disk.
def _sevenzip(path: Path, members: dict[str, int]) -> Path:
    import py7zr

    with py7zr.SevenZipFile(path, "w", filters=[{"id": py7zr.FILTER_LZMA2, "preset": 1}]) as z:
        for name, size in members.items():
            z.writestr(bytes(size), name)
    return path


@pytest.mark.parametrize(
    "members",
    [{"big.bin": 96 * MiB}, {f"s{i}.bin": 6 * MiB for i in range(12)}],
    ids=["declared-ratio", "budget-ratio"],
)
def test_sevenzip_bombs(tmp_path: Path, budgets: list[WorkBudget], members: dict[str, int]) -> None:
    bomb = _sevenzip(tmp_path / "bomb.7z", members)
    result = scan([str(bomb)], ScanConfig())
    _assert_bounded(result, budgets, bomb)


def test_sevenzip_member_over_the_member_cap(tmp_path: Path, budgets: list[WorkBudget]) -> None:
    bomb = _sevenzip(tmp_path / "m.7z", {"a.bin": 3 * MiB})
    limits = Limits(max_member_bytes=MiB, ratio_slack_bytes=1 << 40)
    result = scan([str(bomb)], ScanConfig(limits=limits))
    assert "member-bytes" in _limits(result)


def test_sevenzip_members_are_never_held_in_memory(tmp_path: Path) -> None:
    """A 40 MiB member goes to a temporary file: Python's heap stays far below its size."""
    import tracemalloc

    bomb = _sevenzip(tmp_path / "ok.7z", {"m/weights.bin": 96 * MiB})
    limits = Limits(max_ratio=1 << 20)
    tracemalloc.start()
    try:
        result = scan([str(bomb)], ScanConfig(limits=limits))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not _limits(result)
    assert any(a.ref.member_chain == ("m/weights.bin",) for a in result.artifacts)
    assert peak < 32 * MiB


# The CLI: exit 1 (a finding), never 0 or 2, with one worker process and with several.
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_exit_code_on_bombs(tmp_path: Path, jobs: str) -> None:
    gen_bombs.overlap_full_zip(tmp_path / "a.zip", entries=2000, kernel_bytes=2 * MiB)
    gen_bombs.many_member_tgz(tmp_path / "b.tar.gz", 50_000)
    gen_bombs.nested_zip(tmp_path / "c.zip", 4, 8, 32 * MiB)
    run = subprocess.run(
        [sys.executable, "-m", "mlsbom", "scan", "--jobs", jobs, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 1, run.stderr
    assert "limit-exceeded" in run.stdout and "Traceback" not in run.stderr


# Memory: the address-space cap hit anywhere is a limit finding on that file.
_HOG = textwrap.dedent(
    """
    import os
    from mlsbom.analyzers import tar_archives

    _real = tar_archives.TarAnalyzer.analyze

    def _hog(self, job):
        if job.ref.name.endswith(".hog.tar"):
            return bytes(int(os.environ["HOG_BYTES"]))  # a real allocation under the cap
        return _real(self, job)

    tar_archives.TarAnalyzer.analyze = _hog
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS semantics")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_address_space_cap_is_a_limit_finding(tmp_path: Path, jobs: str) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_HOG)
    targets = tmp_path / "t"
    targets.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w"):
        pass
    gen_bombs.many_member_tar(targets / "x.hog.tar", 3)
    gen_bombs.many_member_tar(targets / "y.hog.tar", 3)
    (targets / "fine.json").write_text("{}")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hooks), str(ROOT)]),
        "MLSBOM_MAX_MEMORY": str(1 << 30),
        "HOG_BYTES": str(2 << 30),
    }
    run = subprocess.run(
        [sys.executable, "-m", "mlsbom", "scan", "--jobs", jobs, "--format", "json", str(targets)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert run.stdout.count('"limit": "memory"') >= 2 or run.stdout.count("memory") >= 2


def test_memory_error_outside_an_analyser_is_a_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Running out while judging or walking members (not inside analyze) is still a finding."""
    target = tmp_path / "a.json"
    target.write_text("{}")

    def boom(*args: object, **kwargs: object) -> object:
        raise MemoryError

    monkeypatch.setattr(analyse, "_scan_members", boom)
    result = scan([str(target)], ScanConfig())
    assert _limits(result) == {"memory"}
    assert {f.rule_id for f in result.findings} == {"limit-exceeded"}


_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from mlsbom.analyzers import tar_archives

    _real = tar_archives.TarAnalyzer.analyze

    def _die(self, job):
        main = getattr(sys.modules["__main__"], "__spec__", None)
        if job.ref.name.endswith(".kill.tar") and getattr(main, "name", "") == "mlsbom._worker":
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        return _real(self, job)

    tar_archives.TarAnalyzer.analyze = _die
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals")
def test_a_worker_killed_mid_file_leaves_no_traceback(tmp_path: Path) -> None:
    """The parent scans the file itself; the verdict matches --jobs 1."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(_KILLER)
    targets = tmp_path / "t"
    targets.mkdir()
    for name in ("a.kill.tar", "b.kill.tar", "c.tar"):
        gen_bombs.many_member_tar(targets / name, 2)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hooks), str(ROOT)])}
    runs = [
        subprocess.run(
            [sys.executable, "-m", "mlsbom", "scan", "--jobs", jobs, str(targets)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        for jobs in ("1", "3")
    ]
    assert runs[0].returncode == runs[1].returncode != 2
    assert all("Traceback" not in r.stderr and "Exception in thread" not in r.stderr for r in runs)
    assert runs[0].stdout == runs[1].stdout
