"""Targets that are not regular files: never a pass, never a hang.

Run through the real entry point (`python -m mlsbom`), since the hashing prefetch looks at the
command line's files before the CLI is even imported.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX special files")

COMMANDS = (("scan",), ("scan", "--sbom", "{out}"), ("sbom",))


def mlsbom(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlsbom", *args],
        capture_output=True,
        text=True,
        timeout=60,  # a FIFO that blocks an open would hang here
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture()
def specials(tmp_path: Path) -> Iterator[dict[str, Path]]:
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    (tmp_path / "to-fifo.pkl").symlink_to(tmp_path / "fifo")
    (tmp_path / "to-zero.bin").symlink_to("/dev/zero")
    yield {
        "fifo": tmp_path / "fifo",
        "socket": tmp_path / "sock",
        "link to a FIFO": tmp_path / "to-fifo.pkl",
        "/dev/null": Path("/dev/null"),
        "/dev/zero": Path("/dev/zero"),
        "link to /dev/zero": tmp_path / "to-zero.bin",
    }
    sock.close()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_special_target_is_a_usage_error(
    specials: dict[str, Path], command: tuple[str, ...], tmp_path: Path
) -> None:
    for label, target in specials.items():
        args = [a.format(out=tmp_path / "bom.json") for a in command]
        done = mlsbom(*args, str(target), cwd=tmp_path)
        assert done.returncode == 2, (label, done.stdout, done.stderr)
        assert "not a file or folder" in done.stderr, label
        assert len(done.stderr.strip().splitlines()) <= 2, done.stderr  # a message, no traceback


def test_a_fifo_with_a_writer_is_still_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    writer = os.open(tmp_path / "fifo", os.O_RDWR | os.O_NONBLOCK)  # a writer is present
    try:
        os.write(writer, b"\x80\x04K\x01.")
        done = mlsbom("scan", str(tmp_path / "fifo"), cwd=tmp_path)
    finally:
        os.close(writer)
    assert done.returncode == 2


def test_special_files_inside_a_folder_fail_the_scan(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.safetensors").write_bytes(b"plain")
    os.mkfifo(model / "pytorch_model.bin")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(model / "tokenizer.sock"))
    try:
        done = mlsbom("scan", "--format", "json", str(model), cwd=tmp_path)
    finally:
        sock.close()
    assert done.returncode == 1, done.stderr
    found = {
        (a["path"].rsplit("/", 1)[-1], f["rule_id"], f["severity"])
        for a in json.loads(done.stdout)["artifacts"]
        for f in a["findings"]
    }
    assert ("pytorch_model.bin", "not-regular-file", "high") in found
    assert ("tokenizer.sock", "not-regular-file", "high") in found


def test_link_to_a_fifo_inside_the_folder_is_not_followed(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    os.mkfifo(model / ".hidden")
    (model / "model.pkl").symlink_to(model / ".hidden")
    done = mlsbom("scan", str(model), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.count("not-regular-file") == 2


def test_near_miss_a_dangling_link_is_reported_but_passes(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "old.bin").symlink_to(model / "removed.bin")
    done = mlsbom("scan", str(model), cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "dangling-symlink" in done.stdout and "not-regular-file" not in done.stdout


def test_unreadable_folder_fails_closed(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    model = tmp_path / "model"
    (model / "locked").mkdir(parents=True)
    (model / "locked" / "evil.pkl").write_bytes(b"cos\nsystem\n(S'echo x'\ntR.")
    os.chmod(model / "locked", 0)
    try:
        done = mlsbom("scan", str(model), cwd=tmp_path)
    finally:
        os.chmod(model / "locked", 0o700)
    assert done.returncode == 1
    assert "unreadable" in done.stdout


def test_unreadable_folder_fails_closed_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same without needing a non-root user: the folder cannot be listed."""
    from mlsbom import walk
    from mlsbom.config import ScanConfig
    from mlsbom.engine import scan

    (tmp_path / "locked").mkdir()
    real = os.scandir

    def scandir(path: str) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(walk.os, "scandir", scandir)
    result = scan([str(tmp_path)], ScanConfig())
    assert [f.rule_id for f in result.findings] == ["unreadable"]
    assert result.findings[0].severity.label == "high"


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--policy", "{s}", "{model}"),
        ("scan", "--key", "{s}", "{model}"),
        ("scan", "--cert-chain", "{s}", "{model}"),
        ("verify", "--signature", "{s}", "{model}"),
        ("verify", "--trusted-root", "{s}", "--signature", "{sig}", "{model}"),
    ],
    ids=["policy", "key", "cert-chain", "signature", "trusted-root"],
)
def test_special_files_given_to_options_never_block(
    tmp_path: Path, special: str, args: tuple[str, ...]
) -> None:
    """Policies, keys, certificates, signatures and trust roots are read only if regular."""
    os.mkfifo(tmp_path / "fifo")
    model = tmp_path / "model.bin"
    model.write_bytes(b"\x80\x04K\x01.")
    sig = tmp_path / "model.bin.sigstore.json"
    sig.write_text("{}")
    path = str(tmp_path / "fifo") if special == "fifo" else special
    done = mlsbom(
        *(a.format(s=path, model=model, sig=sig) for a in args),
        cwd=tmp_path,
    )
    assert done.returncode in (1, 2), (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
