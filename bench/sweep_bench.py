"""Sweep benchmark: many small repositories, over the hub stand-in and from a local folder.

    python bench/sweep_bench.py [--repos 500] [--jobs 1 --jobs 2] [--executor NAME ...] [--runs 1]
                                [--only hub|local] [--latency-ms 50]

Builds N tiny model repositories (fixtures/hub_standin.py `sweep_repo_files`: a config.json, a
small safetensors, a tokenizer.json, every tenth a pickle that runs a command), serves them from
an in-process stand-in hub on 127.0.0.1 and writes the same repositories to a local folder. Each
row runs `mlsbom scan --targets-from LIST --format jsonl -o FILE` in a child process and reports
repositories per second and bytes moved: for the hub, what the stand-in served (listings and
ranged reads) and what mlsbom counted as read; for the local folder, the bytes the repositories
hold. `--executor NAME` (repeatable) adds `--executor NAME` to the command, for executors other
than today's (rows without it are the local engine). Prints a markdown table, then a projection
for a sweep of one million repositories from the fastest serial hub row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fixtures"))
from hub_standin import StandIn, sweep_repo_files, sweep_repos  # noqa: E402


def local_repos(root: Path, count: int) -> list[str]:
    out = []
    for n in range(count):
        folder = root / f"model-{n:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in sweep_repo_files(n).items():
            (folder / name).write_bytes(data)
        out.append(str(folder))
    return out


def sweep_once(
    targets: list[str], work: Path, jobs: int, executor: str | None, env: dict[str, str]
) -> tuple[float, list[dict[str, object]]]:
    listing = work / "targets.txt"
    listing.write_text("\n".join(targets) + "\n")
    out = work / "out.jsonl"
    cmd = [sys.executable, "-m", "mlsbom", "scan", "--no-policy", "--targets-from", str(listing)]
    cmd += ["--format", "jsonl", "-o", str(out), "--jobs", str(jobs), "--no-progress"]
    if executor:
        cmd += ["--executor", executor]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    if len(docs) != len(targets):
        raise SystemExit(f"{len(docs)} lines for {len(targets)} targets")
    return wall, docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--jobs", type=int, action="append", help="default: 1 and 2")
    parser.add_argument("--executor", action="append", default=[], help="passed to mlsbom scan")
    parser.add_argument("--runs", type=int, default=1, help="best of N runs per row")
    parser.add_argument("--only", choices=["hub", "local"], help="one source only")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay the stand-in adds to each request"
    )
    args = parser.parse_args()
    jobs_list = args.jobs or [1, 2]
    executors: list[str | None] = [None, *args.executor]
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlsbom-sweep-bench-") as tmp:
        work = Path(tmp)
        repos = sweep_repos(args.repos, org="bench")
        locals_ = local_repos(work / "repos", args.repos)
        with StandIn(repos, latency=args.latency_ms / 1000) as hub:
            for repo_id, repo in repos.items():  # the stand-in hashes each file once, untimed
                for name in repo.files:
                    hub.sibling(repo_id, name)
            env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_TELEMETRY": "1"}
            sources = {"hub": [f"hf://{r}" for r in repos], "local": locals_}
            for source, targets in sources.items():
                if args.only and source != args.only:
                    continue
                for executor in executors:
                    for jobs in jobs_list:
                        best = None
                        for _ in range(args.runs):
                            served = hub.bytes_served
                            wall, docs = sweep_once(targets, work, jobs, executor, env)
                            moved = hub.bytes_served - served
                            if best is None or wall < best[0]:
                                best = (wall, docs, moved)
                        assert best is not None
                        wall, docs, moved = best
                        rows.append((source, executor or "local", jobs, wall, docs, moved))
    delay = f"{args.latency_ms:g} ms added per hub request" if args.latency_ms else "no latency"
    print(f"{args.repos} repositories per source; best of {args.runs}; loopback, {delay}\n")
    print("| source | executor | jobs | wall s | repos/s | s/repo scan | failed | bytes moved |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for source, executor, jobs, wall, docs, moved in rows:
        engine = sum(float(d["seconds"]) for d in docs) / len(docs)  # type: ignore[arg-type]
        failed = sum(d["verdict"] == "fail" for d in docs)
        summaries = [d["summary"] for d in docs]
        if source == "hub":
            read = sum(s["hub_bytes_read"] for s in summaries)  # type: ignore[index]
            what = f"{moved:,} served ({read:,} file bytes read)"
        else:
            held = sum(s["bytes_total"] for s in summaries)  # type: ignore[index]
            what = f"{held:,} held"
        print(
            f"| {source} | {executor} | {jobs} | {wall:.2f} | {len(docs) / wall:.1f} | "
            f"{engine:.4f} | {failed} | {what} |"
        )
    hub_rows = [r for r in rows if r[0] == "hub" and r[2] == 1]
    if hub_rows:
        source, executor, jobs, wall, docs, moved = min(hub_rows, key=lambda r: r[3])
        per_repo = wall / len(docs)
        days = 1_000_000 * per_repo / 100 / 86400
        print(
            f"\nprojection: 1,000,000 repositories at 100 workers, each as fast as one serial "
            f"process here ({per_repo * 1000:.1f} ms/repo, {moved / len(docs):,.0f} bytes/repo "
            f"served): {days * 24:.1f} h and {moved / len(docs) * 1e6 / 1e9:.1f} GB moved. "
            "Assumes repositories like these (tiny, ~4 files), the latency set here, no hub rate "
            "limit, and workers that do not share a CPU."
        )


if __name__ == "__main__":
    main()
