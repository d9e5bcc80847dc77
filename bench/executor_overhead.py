"""Per-task overhead of each executor: N tiny files analysed by serial, --jobs 2 and Dask.

    python bench/executor_overhead.py [--files 2000]

The files are small JSON configs (analysis itself is ~0.1 ms), so wall time over N is what the
executor adds per file: dispatch, JSON encoding both ways, scheduling. Cluster start-up is timed
apart. Prints a markdown table; not a test.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from mlsbom.config import ScanConfig
from mlsbom.engine import scan
from mlsbom.executors import Executor, executor_for


def _folder(root: Path, files: int) -> Path:
    for n in range(files):
        (root / f"config-{n:05}.json").write_text(json.dumps({"model_type": "bert", "n": n}))
    return root


def _timed(folder: Path, make: str, jobs: int) -> tuple[float, float, int]:
    started = time.perf_counter()
    executor: Executor = executor_for(make, jobs)
    up = time.perf_counter() - started
    try:
        scan([str(folder)], ScanConfig(jobs=jobs), executor=executor)  # warm: imports, workers
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            result = scan([str(folder)], ScanConfig(jobs=jobs), executor=executor)
            best = min(best, time.perf_counter() - t0)
    finally:
        executor.close()
    return up, best, len(result.artifacts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = _folder(Path(tmp), args.files)
        rows = [("serial", "local", 1), ("processes", "local", 2), ("dask", "dask", 1)]
        rows.append(("dask", "dask", 2))
        print("| executor | workers | start-up s | wall s | files/s | per file ms |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, spec, jobs in rows:
            up, wall, n = _timed(folder, spec, jobs)
            print(
                f"| {name} | {jobs} | {up:.2f} | {wall:.2f} | {n / wall:,.0f} | "
                f"{1000 * wall / n:.2f} |"
            )


if __name__ == "__main__":
    main()
