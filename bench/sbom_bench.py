"""SBOM benchmark: `mlsbom sbom` against hashlib SHA-256 passes over the same files.

    python bench/sbom_bench.py [--dir /tmp/mlsbom-bench/sbom] [--gb 2] [--runs 5]
                               [--only folder|single|pair] [--plain] [--variant LABEL=PYTHONPATH]

Three inputs, each made once under --dir (real bytes, not sparse; about 2 GB x 5 in all):
- folder: 3 files of --gb GB (two safetensors shards and a PyTorch zip), against a hashlib pass
  that uses every core (a thread per core, one file per worker, 1 MiB reads: hashlib releases
  the GIL on large updates, so threads suffice); the machine's limit for hashing these files.
- single: one --gb GB safetensors file, against one hashlib pass.
- pair: the older input, --gb GB safetensors + a half-sized zip, against one sequential pass.

Runs are interleaved (yardstick, mlsbom, [variants,] yardstick, mlsbom, ...) so all see the same
machine; wall time is the best of --runs fresh processes, warm page cache; `x yardstick` divides
the two best times, and `median x` is the median of the per-run ratios. `--plain` adds mlsbom
with MLSBOM_NO_SPEEDUPS=1, `--variant before=/path` the mlsbom of another checkout. Target
(issue 20): folder and single <= 1.2 x. CPU s is the least user + system time of a run (the
hashing child's included), which a busy machine disturbs less than wall time; peak RSS is the
largest single process.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bigfiles import MIB, safetensors_file, torch_zip  # noqa: E402

HASH = (
    "import sys, hashlib\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from bigfiles import sha256_pass\n"
    "from pathlib import Path\n"
    "sha256_pass([Path(p) for p in sys.argv[2:]])\n"
)
HASH_ALL_CORES = (
    "import sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from bigfiles import sha256_parallel\n"
    "from pathlib import Path\n"
    "sha256_parallel([Path(p) for p in sys.argv[2:]])\n"
)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one fresh child process, timed by a small wrapper."""
    wall, rss, _ = measure_cpu(cmd, env)
    return wall, rss


def measure_cpu(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MB, CPU seconds: user + system of it and the children it waited
    for) of one fresh child process, timed by a small wrapper."""
    wrapper = [
        sys.executable,
        "-c",
        "import resource, subprocess, sys, time\n"
        "t=time.perf_counter(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "w=time.perf_counter()-t\n"
        "r=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(w, r.ru_maxrss / 1024, r.ru_utime + r.ru_stime)",
        *cmd,
    ]
    run_env = {**os.environ, **(env or {})}
    run_env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: imports from cached bytecode
    out = subprocess.run(wrapper, capture_output=True, text=True, check=True, env=run_env)
    wall, rss, cpu = out.stdout.split()
    return float(wall), float(rss), float(cpu)


def inputs(folder: Path, gb: float) -> dict[str, tuple[list[Path], str]]:
    """name -> (files, what mlsbom is given); made once."""
    size = int(gb * 1024) * MIB
    three = folder / "three"
    pair = folder / "pair"
    single = folder / "single"
    for sub in (three, pair, single):
        sub.mkdir(parents=True, exist_ok=True)
    made = [
        (three / "model-00001-of-00002.safetensors", lambda p: safetensors_file(p, size)),
        (three / "model-00002-of-00002.safetensors", lambda p: safetensors_file(p, size)),
        (three / "pytorch_model.bin", lambda p: torch_zip(p, size)),
        (pair / "model.safetensors", lambda p: safetensors_file(p, size)),
        (pair / "pytorch_model.bin", lambda p: torch_zip(p, size // 2)),
        (single / "model.safetensors", lambda p: safetensors_file(p, size)),
    ]
    for path, make in made:
        if not path.exists():
            make(path)
    files = {sub: sorted(p for p in sub.iterdir() if p.is_file()) for sub in (three, pair, single)}
    return {
        "folder": (files[three], str(three)),
        "single": (files[single], str(files[single][0])),
        "pair": (files[pair], str(pair)),
    }


def compare(
    name: str, files: list[Path], target: str, runs: int, variants: dict[str, dict[str, str]]
) -> list[str]:
    """One row per mlsbom variant (label -> environment), all interleaved with the yardstick."""
    py = sys.executable
    paths = [str(p) for p in files]
    yard_code = HASH_ALL_CORES if name == "folder" else HASH
    yard_name = "hashlib, all cores" if name == "folder" else "hashlib, one pass"
    commands = {yard_name: ([py, "-c", yard_code, str(HERE), *paths], {})}
    mlsbom = [py, "-m", "mlsbom", "sbom", target, "-o", "/dev/null"]
    commands.update({label: (mlsbom, env) for label, env in variants.items()})
    subprocess.run(["cat", *paths], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    for cmd, env in commands.values():
        measure(cmd, env)  # and the bytecode cache
    got: dict[str, list[tuple[float, float, float]]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, (cmd, env) in commands.items():
            got[label].append(measure_cpu(cmd, env))
    total = sum(p.stat().st_size for p in files)
    yard = got[yard_name]
    best_yard = min(w for w, _, _ in yard)
    rows = []
    for label, measured in got.items():
        ratios = [m[0] / y[0] for y, m in zip(yard, measured, strict=True)]
        best = min(w for w, _, _ in measured)
        rss = max(r for _, r, _ in measured)
        cpu = min(c for _, _, c in measured)
        rows.append(
            f"| {name}: {len(files)} files, {total / 1e9:.2f} GB | {label} | {best:.2f} "
            f"| {cpu:.2f} | {rss:.0f} | {best / best_yard:.2f} | {statistics.median(ratios):.2f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mlsbom-bench/sbom"))
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["folder", "single", "pair"], action="append")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=PYTHONPATH",
        help="also time the mlsbom found on this PYTHONPATH (e.g. an older checkout)",
    )
    parser.add_argument(
        "--plain", action="store_true", help="also time mlsbom with MLSBOM_NO_SPEEDUPS=1"
    )
    args = parser.parse_args()
    variants: dict[str, dict[str, str]] = {"mlsbom sbom": {}}
    for given in args.variant:
        label, path = given.split("=", 1)
        variants[f"mlsbom sbom ({label})"] = {"PYTHONPATH": path}
    if args.plain:
        variants["mlsbom sbom, MLSBOM_NO_SPEEDUPS=1"] = {"MLSBOM_NO_SPEEDUPS": "1"}
    print(f"best of {args.runs} interleaved runs, warm page cache, {os.cpu_count()} cores")
    print(
        "| input | command | wall s | CPU s | peak RSS MB | x yardstick | median x |\n"
        "|---|---|---:|---:|---:|---:|---:|",
        flush=True,
    )
    for name, (files, target) in inputs(args.dir, args.gb).items():
        if args.only and name not in args.only:
            continue
        for line in compare(name, files, target, args.runs, variants):
            print(line, flush=True)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
