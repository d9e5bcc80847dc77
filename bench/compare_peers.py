"""Run mlsbom and the peer scanners over the fixtures and tabulate who flags what.

    python3 -m venv /tmp/peers
    /tmp/peers/bin/pip install picklescan modelscan modelaudit fickling
    python bench/compare_peers.py --peers /tmp/peers/bin [--out docs/peers.md]

A file counts as "flagged" when the tool's exit code or output says it found a problem. Peers
are never imported; each runs as its own process with a timeout. Not part of the unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
# no telemetry, no hub lookups: the peers run offline like mlsbom
_ENV = {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}


def _run(cmd: list[str], timeout: int = 120) -> tuple[int, str]:
    try:
        with tempfile.TemporaryDirectory() as cwd:  # fickling writes safety_results.json to cwd
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, env=_ENV, cwd=cwd
            )
    except subprocess.TimeoutExpired:
        return -1, "timeout"
    return proc.returncode, proc.stdout + proc.stderr


def mlsbom(path: Path) -> str:
    code, out = _run(
        [sys.executable, "-m", "mlsbom", "scan", str(path.resolve()), "--format", "json"]
    )
    if code == 2:
        return "error"
    doc = json.loads(out[out.index("{") :])
    worst = [f["severity"] for a in doc["artifacts"] for f in a["findings"]]
    order = ["info", "low", "medium", "high", "critical"]
    top = max(worst, key=order.index) if worst else "none"
    return f"FLAG ({top})" if code == 1 else f"pass ({top})"


def picklescan(bin_dir: Path, path: Path) -> str:
    code, out = _run([str(bin_dir / "picklescan"), "--path", str(path)])
    if "Infected files: 0" in out and code == 0:
        return "pass"
    return "FLAG" if code == 1 or "dangerous" in out.lower() else f"error({code})"


def modelscan(bin_dir: Path, path: Path) -> str:
    code, out = _run([str(bin_dir / "modelscan"), "-p", str(path)])
    if "No issues found" in out and code == 0:
        return "pass"
    if code == 1 or "Total Issues" in out:
        return "FLAG"
    return "skip" if "skipped" in out.lower() or code == 3 else f"error({code})"


def modelaudit(bin_dir: Path, path: Path) -> str:
    code, out = _run([str(bin_dir / "modelaudit"), "scan", "--no-cache", str(path)])
    if code == 0:
        return "pass"
    if code == 1:  # modelaudit exits 1 for warnings too: say which
        return "FLAG" if re.search(r"\d+ Critical", out) else "warn"
    return f"error({code})"


def fickling(bin_dir: Path, path: Path) -> str:
    code, _ = _run([str(bin_dir / "fickling"), "--check-safety", str(path)])
    if code == 0:
        return "pass"
    return "FLAG" if code == 1 else f"error({code})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers", type=Path, required=True, help="bin/ of a venv with the peers")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--tools", default="picklescan,modelscan,modelaudit,fickling", help="comma-separated"
    )
    parser.add_argument(
        "--summary", action="store_true", help="also print flagged counts per folder and tool"
    )
    parser.add_argument("folders", nargs="*", default=["malicious", "benign", "real", "malformed"])
    args = parser.parse_args()
    every = {
        "picklescan": lambda p: picklescan(args.peers, p),
        "modelscan": lambda p: modelscan(args.peers, p),
        "modelaudit": lambda p: modelaudit(args.peers, p),
        "fickling": lambda p: fickling(args.peers, p),
    }
    tools = {name: every[name] for name in args.tools.split(",") if name}
    counts: dict[tuple[str, str], list[int]] = {}
    lines = ["| file | mlsbom | " + " | ".join(tools) + " |", "|---" * (len(tools) + 2) + "|"]
    for folder in args.folders:
        for path in sorted((FIXTURES / folder).rglob("*")):
            if not path.is_file() or path.suffix in (".md",) or path.name == "LICENSE":
                continue
            cells = [mlsbom(path)] + [tool(path) for tool in tools.values()]
            lines.append(f"| {path.relative_to(FIXTURES)} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
            for name, cell in zip(["mlsbom", *tools], cells, strict=True):
                tally = counts.setdefault((folder, name), [0, 0])
                tally[0] += cell.startswith("FLAG")
                tally[1] += 1
    if args.summary:
        lines += ["", "| folder | tool | flagged | files |", "|---|---|---|---|"]
        lines += [f"| {f} | {t} | {n} | {total} |" for (f, t), (n, total) in counts.items()]
        print("\n".join(lines[-len(counts) - 2 :]))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
