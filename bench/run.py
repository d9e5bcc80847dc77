"""The benchmark table: mlsbom next to `cat`, a hashlib SHA-256 pass and the peer scanners.

    python bench/run.py [--dir /tmp/mlsbom-bench] [--peers /work/peers/bin] [--runs 3]
                        [--out docs/benchmarks.md]

Artefacts (made once, reused): a 2 GB safetensors file, a 1 GB PyTorch zip, a 500 MB legacy
PyTorch file, a folder of 1,000 small files, and a folder of 4 opcode-heavy pickles (CPU-bound
analysis). For each: wall time (best of N, warm page cache), throughput and peak RSS of the child
process. Rows: `cat > /dev/null`, a streaming hashlib pass (1 MiB reads), `mlsbom scan` (reads
only what analysis needs), `mlsbom scan --sbom` (hashes every byte), a second `mlsbom scan
--cache` (unchanged files), and each peer that is installed (one run, 120 s timeout).
Not part of the unit tests.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bigfiles import MIB, many_files, safetensors_file, torch_legacy, torch_zip  # noqa: E402
from sbom_bench import HASH, measure  # noqa: E402

PEERS = {
    "picklescan": lambda b, p: [str(b / "picklescan"), "--path", str(p)],
    "modelscan": lambda b, p: [str(b / "modelscan"), "-p", str(p)],
    "modelaudit": lambda b, p: [str(b / "modelaudit"), "scan", "--no-cache", str(p)],
    "fickling": lambda b, p: [str(b / "fickling"), "--check-safety", str(p)],
}


def artefacts(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "2 GB safetensors": (
            folder / "model.safetensors",
            lambda p: safetensors_file(p, 2048 * MIB),
        ),
        "1 GB PyTorch zip": (folder / "pytorch_model.bin", lambda p: torch_zip(p, 1024 * MIB)),
        "500 MB legacy PyTorch": (folder / "legacy.pt", lambda p: torch_legacy(p, 500 * MIB)),
        "1,000 small files": (folder / "many", lambda p: many_files(p, 1000)),
        "4 pickles of 2 M opcodes": (folder / "pickles", lambda p: opcode_heavy(p, 4)),
    }
    for path, make in made.values():
        if not path.exists():
            make(path)
    return {name: path for name, (path, _) in made.items()}


def opcode_heavy(folder: Path, count: int) -> Path:
    """Pickles whose analysis costs CPU, not I/O: 2 M integers each (about 2 M opcodes)."""
    import pickle

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"state_{i}.pkl").write_bytes(pickle.dumps(list(range(i, i + 2_000_000)), 4))
    return folder


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def files_of(path: Path) -> list[str]:
    return (
        [str(p) for p in sorted(path.rglob("*")) if p.is_file()] if path.is_dir() else [str(path)]
    )


def best(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    results = []
    for _ in range(runs):
        if env is not None:
            old = os.environ.copy()
            os.environ.update(env)
        try:
            results.append(measure(cmd))
        finally:
            if env is not None:
                os.environ.clear()
                os.environ.update(old)
    return min(r[0] for r in results), max(r[1] for r in results)


def peer_run(cmd: list[str]) -> tuple[float, float] | str:
    wrapped = ["timeout", "120", *cmd]
    try:
        return measure(wrapped)
    except (subprocess.CalledProcessError, ValueError, IndexError):
        return "failed"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mlsbom-bench"))
    parser.add_argument("--peers", type=Path, help="bin/ of a venv with the peer scanners")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "mlsbom"]
    lines = [
        "| artefact | command | wall s | MB/s | peak RSS MB |",
        "|---|---|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as cache:
        cache_env = {"MLSBOM_CACHE_DIR": cache}
        for name, path in artefacts(args.dir).items():
            size = size_of(path)
            files = files_of(path)
            subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)  # warm
            rows: list[tuple[str, tuple[float, float] | str]] = [
                ("cat", best(["sh", "-c", 'cat "$@" > /dev/null', "cat", *files], args.runs)),
                (
                    "hashlib sha256 pass",
                    best([sys.executable, "-c", HASH, str(HERE), *files], args.runs),
                ),
                ("mlsbom scan", best([*cli, "scan", str(path)], args.runs)),
                (
                    "mlsbom scan --sbom",
                    best([*cli, "scan", str(path), "--sbom", "/dev/null"], args.runs),
                ),
            ]
            subprocess.run([*cli, "scan", str(path), "--cache"], env={**os.environ, **cache_env},
                           stdout=subprocess.DEVNULL, check=False)  # fmt: skip
            again = best([*cli, "scan", str(path), "--cache"], args.runs, cache_env)
            rows.append(("mlsbom scan --cache (2nd run)", again))
            if args.peers:
                for peer, make in PEERS.items():
                    if (args.peers / peer).exists():
                        rows.append((peer, peer_run(make(args.peers, path))))
            for command, got in rows:
                if isinstance(got, str):
                    lines.append(f"| {name} | {command} | {got} | | |")
                    continue
                wall, rss = got
                lines.append(
                    f"| {name} | {command} | {wall:.2f} | {size / MIB / wall:,.0f} | {rss:,.0f} |"
                )
                print(lines[-1], flush=True)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
