"""SBOM benchmark: `mlsbom sbom` on 2 GB safetensors + a 1 GB PyTorch zip vs one hashlib pass.

    python bench/sbom_bench.py [--dir /tmp/mlsbom-bench-sbom] [--gb 2]

Prints wall time and peak RSS (of the child process) for each, three runs, warm page cache.
Target (issue 5): mlsbom ≤ 1.2 x the hashlib pass, peak RSS < 200 MB.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bigfiles import weights_folder_args

HASH = (
    "import sys, hashlib\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from bigfiles import sha256_pass\n"
    "from pathlib import Path\n"
    "sha256_pass([Path(p) for p in sys.argv[2:]])\n"
)


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} failed: {proc.stderr.decode()[-500:]}")
    # ru_maxrss of RUSAGE_CHILDREN is the max over children so far; run each in a fresh python
    return wall, 0.0


def measure(cmd: list[str]) -> tuple[float, float]:
    wrapper = [
        sys.executable,
        "-c",
        "import resource, subprocess, sys, time\n"
        "t=time.perf_counter(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "w=time.perf_counter()-t\n"
        "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)",
        *cmd,
    ]
    out = subprocess.run(wrapper, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    st, pt, runs = weights_folder_args(__doc__.splitlines()[0])
    folder = st.parent
    total = st.stat().st_size + pt.stat().st_size
    here = str(Path(__file__).resolve().parent)
    mlsbom = [sys.executable, "-m", "mlsbom", "sbom", str(folder), "-o", "/dev/null"]
    hashing = [sys.executable, "-c", HASH, here, str(st), str(pt)]
    subprocess.run(hashing, check=True)  # warm the page cache
    rows = []
    for name, cmd in (("hashlib sha256 pass (1 MiB reads)", hashing), ("mlsbom sbom", mlsbom)):
        measured = [measure(cmd) for _ in range(runs)]
        wall = min(r[0] for r in measured)
        rss = max(r[1] for r in measured)
        rows.append((name, wall, rss))
    base = rows[0][1]
    print(f"{total / 1e9:.2f} GB in 2 files, best of {runs} runs, warm cache")
    print(f"| {'command':<36} | wall s | GB/s | x hashlib | peak RSS MB |")
    print(f"|{'-' * 38}|-------:|-----:|----------:|------------:|")
    for name, wall, rss in rows:
        print(
            f"| {name:<36} | {wall:6.2f} | {total / wall / 1e9:4.2f} | {wall / base:9.2f} "
            f"| {rss:11.0f} |"
        )


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
