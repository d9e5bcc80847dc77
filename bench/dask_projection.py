"""Where a Dask sweep spends its CPU, and what a million repositories would cost.

    python bench/dask_projection.py [--repos 500] [--workers 2]

Starts a LocalCluster (scheduler in this process, workers as processes) on 127.0.0.1, serves N
stand-in hub repositories, and runs `mlsbom scan --targets-from LIST --format jsonl --executor
tcp://…` as a child: the client. CPU time is measured apart for the client (the child:
listings, walking, judging, writing lines), the scheduler (this process) and the workers (their
processes), per repository. The projection for 1,000,000 repositories at 100 workers takes the
slowest of three pipelines as the bound: workers (worker CPU x N / 100), the scheduler (its CPU
x N, single-threaded), one client (its CPU x N; clients can be split by target list).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fixtures"))
from hub_standin import StandIn, sweep_repos  # noqa: E402


def _cpu_of(pids: list[int]) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=40,
    )
    client = Client(cluster)
    worker_pids = list(client.run(os.getpid).values())
    repos = sweep_repos(args.repos, org="bench")
    with tempfile.TemporaryDirectory() as tmp, StandIn(repos) as hub:
        for repo_id, repo in repos.items():
            for name in repo.files:
                hub.sibling(repo_id, name)
        listing = Path(tmp) / "targets.txt"
        listing.write_text("".join(f"hf://{r}\n" for r in repos))
        env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_TELEMETRY": "1"}
        cmd = [sys.executable, "-m", "mlsbom", "scan", "--no-policy", "--targets-from"]
        cmd += [str(listing), "--format", "jsonl", "-o", str(Path(tmp) / "out.jsonl")]
        cmd += ["--executor", cluster.scheduler_address, "--jobs", str(args.workers)]
        served0 = hub.bytes_served
        before = resource.getrusage(resource.RUSAGE_SELF)
        workers0 = _cpu_of(worker_pids)
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=False, capture_output=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        served = hub.bytes_served - served0
    workers = _cpu_of(worker_pids) - workers0
    scheduler = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    client_cpu = kids.ru_utime + kids.ru_stime
    n = args.repos
    print(f"{n} hub repositories, {args.workers} Dask workers, loopback: {wall:.1f} s wall")
    print("| part | CPU s | CPU ms / repo |")
    print("|---|---:|---:|")
    for name, cpu in (("client", client_cpu), ("scheduler", scheduler), ("workers", workers)):
        print(f"| {name} | {cpu:.1f} | {1000 * cpu / n:.1f} |")
    million, width = 1_000_000, 100
    bounds = {
        "100 workers": workers / n * million / width,
        "one scheduler": scheduler / n * million,
        "one client": client_cpu / n * million,
    }
    print(f"bytes served: {served:,} ({served / n:,.0f} / repo)")
    for name, secs in bounds.items():
        print(f"1M repositories, bound by {name}: {secs / 3600:.2f} h")
    print(f"1M repositories move about {served / n * million / 1e9:.2f} GB")
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
