"""Hub benchmark: vet a stand-in repository holding a 2 GB safetensors file and a 1 GB PyTorch zip.

    python bench/hub_bench.py [--dir /tmp/mlsbom-bench-sbom] [--gb 2]

The stand-in (fixtures/hub_standin.py) serves the files from disk on 127.0.0.1 with Range support;
`mlsbom scan hf://bench/big` runs in a child process. Prints wall time, bytes read of the repo size.
Target (issue 6): under 1% of the bytes, under 2 s on loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "fixtures"))
from bigfiles import weights_folder_args  # noqa: E402
from hub_standin import Repo, StandIn  # noqa: E402


def main() -> None:
    st, pt, runs = weights_folder_args(__doc__.splitlines()[0])
    files: dict[str, bytes | Path] = {
        "model.safetensors": st,
        "pytorch_model.bin": pt,
        "config.json": b'{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}',
        "README.md": b"---\nlicense: apache-2.0\n---\n# big\n",
    }
    total = sum(p.stat().st_size if isinstance(p, Path) else len(p) for p in files.values())
    with StandIn({"bench/big": Repo(files, meta={"author": "bench"})}) as hub:
        for name in files:  # the stand-in hashes LFS files once, before timing
            hub.sibling("bench/big", name)
        env = {**os.environ, "HF_ENDPOINT": hub.endpoint}
        cmd = [sys.executable, "-m", "mlsbom", "scan", "hf://bench/big", "--format", "json"]
        walls, read = [], 0
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            walls.append(time.perf_counter() - t0)
            if proc.returncode not in (0, 1):
                raise SystemExit(proc.stderr[-2000:])
            doc = json.loads(proc.stdout)
            repo = next(
                f for a in doc["artifacts"] for f in a["facts"] if f["kind"] == "hub-repository"
            )
            read = repo["bytes_read"]
    print(f"stand-in repo of {total / 1e9:.2f} GB (2 weight files + 2 small), best of {runs}")
    print("| command | wall s | bytes read | of repo |")
    print("|---|---:|---:|---:|")
    print(f"| mlsbom scan hf://bench/big | {min(walls):.2f} | {read:,} | {read / total:.4%} |")


if __name__ == "__main__":
    main()
