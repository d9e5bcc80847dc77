"""Workers and hashing children end with mlsbom; SIGINT exits 130 and SIGTERM 143, never 1.

Each test starts the real command in a subprocess, waits (by polling /proc, not by sleeping a
guessed time) until its children are at work, signals it, and checks that none survives.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlsbom import lifetime

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped, as under a container's init, counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    return [p for p in pids if _parent_of(p) == pid]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _wait_for_children(proc: subprocess.Popen[bytes], marker: str, count: int) -> list[int]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [p for p in _children(proc.pid) if marker in _cmdline(p)]
        if len(found) >= count:
            return found
        assert proc.poll() is None, "the scan ended before its children were seen"
        time.sleep(0.05)
    raise AssertionError(f"no {marker} children appeared")


def _all_gone(pids: list[int]) -> bool:
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


@pytest.fixture(scope="module")
def busy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pickles of a million opcodes each: seconds of analysis per file."""
    folder = tmp_path_factory.mktemp("busy")
    data = pickle.dumps([list(range(i, i + 1000)) for i in range(0, 1_000_000, 1000)], 4)
    for n in range(8):
        (folder / f"w{n}.pkl").write_bytes(data)
    return folder


@pytest.fixture()
def huge(tmp_path: Path) -> Path:
    path = tmp_path / "huge.bin"
    with open(path, "wb") as f:
        f.truncate(64 << 30)  # sparse: hashing it takes most of a minute
    return path


def _start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlsbom", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a shell's foreground job
    )


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_scan_and_its_workers(
    busy_folder: Path, sig: signal.Signals, code: int
) -> None:
    proc = _start("scan", "--jobs", "2", str(busy_folder))
    workers = _wait_for_children(proc, "mlsbom.executors.worker", 2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert b"Traceback" not in err and b"Aborted" not in err
    assert _all_gone(workers), [_cmdline(p) for p in workers]


def test_ctrl_c_to_the_whole_process_group(busy_folder: Path, huge: Path, tmp_path: Path) -> None:
    """A terminal's Ctrl-C signals the foreground group: one clean exit 130, no tracebacks."""
    bom = str(tmp_path / "bom.json")
    proc = _start("scan", "--jobs", "2", str(busy_folder), str(huge), "--sbom", bom)
    children = _wait_for_children(proc, "mlsbom.executors.worker", 2)
    children += _wait_for_children(proc, "hashlib", 1)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err
    assert _all_gone(children)


def test_a_killed_scan_takes_its_workers_with_it(busy_folder: Path) -> None:
    """SIGKILL runs no exit handler: the kernel's parent-death signal ends the workers."""
    proc = _start("scan", "--jobs", "2", str(busy_folder))
    workers = _wait_for_children(proc, "mlsbom.executors.worker", 2)
    proc.kill()
    proc.wait(timeout=60)
    assert _all_gone(workers)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_hashing_child_ends_with_the_scan(huge: Path, tmp_path: Path, sig: signal.Signals) -> None:
    proc = _start("scan", str(huge), "--sbom", str(tmp_path / "bom.json"))
    hashing = _wait_for_children(proc, "hashlib", 1)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode == lifetime.EXIT_CODES.get(sig, -sig), sig
    assert _all_gone(hashing)


def test_a_child_whose_parent_is_gone_exits(tmp_path: Path) -> None:
    """The fallback where no death signal exists: a child polls its parent and leaves."""
    code = (
        "import os, sys, time\n"
        "from mlsbom import lifetime\n"
        "lifetime._death_signal = lambda: False\n"
        "lifetime._POLL_SECONDS = 0.05\n"
        "lifetime.die_with_parent(int(sys.argv[1]))\n"
        "print('armed', flush=True)\n"
        "time.sleep(60)\n"
    )
    middle = (
        "import os, subprocess, sys\n"
        f"argv = [sys.executable, '-c', {code!r}, str(os.getpid())]\n"
        "child = subprocess.Popen(argv, stdout=subprocess.PIPE)\n"
        "child.stdout.readline()\n"
        "print(child.pid, flush=True)\n"
    )  # exits without waiting for its child
    done = subprocess.run(
        [sys.executable, "-c", middle], capture_output=True, text=True, timeout=60, check=True
    )
    assert _all_gone([int(done.stdout.split()[0])])


def test_a_child_started_after_its_parent_died_exits_at_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from mlsbom import lifetime; lifetime.die_with_parent(1)"],
        timeout=60,
        check=False,
    )
    assert done.returncode == 1


def _pids(executor: object) -> set[int]:
    idle = executor._idle  # type: ignore[attr-defined]
    workers = []
    while not idle.empty():
        workers.append(idle.get_nowait())
    for w in workers:
        idle.put(w)
    return {w.proc.pid for w in workers}


def test_workers_live_across_runs_and_a_dead_one_is_replaced(tmp_path: Path) -> None:
    """A sweep's targets reuse the process executor's workers; one killed between targets is
    replaced, and the verdicts stay those of a serial scan."""
    from mlsbom.config import ScanConfig
    from mlsbom.engine import scan
    from mlsbom.executors.processes import ProcessExecutor

    for n in range(4):
        (tmp_path / f"a-{n}.pkl").write_bytes(b"cos\nsystem\n(S'echo mlsbom-fixture'\ntR.")
        (tmp_path / f"b-{n}.json").write_text("{}")
    serial = scan([str(tmp_path)], ScanConfig())
    executor = ProcessExecutor(2)
    try:
        first = scan([str(tmp_path)], ScanConfig(jobs=2), executor=executor)
        before = _pids(executor)
        second = scan([str(tmp_path)], ScanConfig(jobs=2), executor=executor)
        assert _pids(executor) == before and len(before) == 2
        os.kill(next(iter(before)), signal.SIGKILL)
        time.sleep(0.2)
        third = scan([str(tmp_path)], ScanConfig(jobs=2), executor=executor)
        assert len(_pids(executor) - before) == 1
    finally:
        executor.close()
    assert serial.findings == first.findings == second.findings == third.findings
