"""Wall time, peak RSS and exit code of mlsbom (and peers, if installed) on each bomb.

    python bench/bombs.py [--bombs DIR] [--timeout S] [--peers VENV] [--only NAME ...]

Bombs are built by fixtures/gen_bombs.py into DIR (default /tmp/mlsbom-bombs) when missing.
Each tool runs in its own process; peak RSS is that process's ru_maxrss (os.wait4), so worker
processes a tool starts are not included. A run past the timeout is killed and shown as such.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures"))

import gen_bombs  # noqa: E402


def _run(cmd: list[str], timeout: float) -> tuple[str, float, float]:
    """(exit code or 'timeout', seconds, peak RSS in MiB)."""
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            return "timeout", time.monotonic() - start, usage.ru_maxrss / 1024
        time.sleep(0.05)
    code = os.waitstatus_to_exitcode(status)
    return str(code), time.monotonic() - start, usage.ru_maxrss / 1024


def _tools(peers: Path | None) -> dict[str, list[str]]:
    tools = {"mlsbom": [sys.executable, "-m", "mlsbom", "scan"]}
    if peers is None:
        return tools
    bin_ = peers / "bin"
    for name, cmd in {
        "picklescan": ["picklescan", "-p"],
        "modelscan": ["modelscan", "-p"],
        "modelaudit": ["modelaudit", "scan"],
        "fickling": ["fickling", "--check-safety"],
    }.items():
        if (bin_ / cmd[0]).exists():
            tools[name] = [str(bin_ / cmd[0]), *cmd[1:]]
    return tools


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bombs", type=Path, default=Path("/tmp/mlsbom-bombs"))
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--peers", type=Path, default=None)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    args.bombs.mkdir(parents=True, exist_ok=True)
    names = args.only or list(gen_bombs.BOMBS)
    paths = {}
    for name in names:
        path = args.bombs / name
        if not path.exists():
            gen_bombs.BOMBS[name](args.bombs)
        paths[name] = path
    tools = _tools(args.peers)
    if args.jobs > 1:
        tools["mlsbom"] += ["--jobs", str(args.jobs)]
    print("| bomb | size | " + " | ".join(f"{t} (exit, s, MiB)" for t in tools) + " |")
    print("|---|---:|" + "---|" * len(tools))
    for name, path in paths.items():
        cells = []
        for cmd in tools.values():
            target = path
            if shutil.which(cmd[0]) is None and not Path(cmd[0]).exists():
                cells.append("n/a")
                continue
            code, seconds, rss = _run([*cmd, str(target)], args.timeout)
            cells.append(f"{code}, {seconds:.1f}, {rss:.0f}")
        size = path.stat().st_size
        print(f"| {name} | {size / 1024:.0f} KiB | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
