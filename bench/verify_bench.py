"""Signature benchmark: verifying a signed 1 GB model next to hashing it alone.

    python bench/verify_bench.py [--dir /tmp/mlsbom-bench-verify] [--gb 1] [--runs 3]

The folder holds a 1 GB safetensors file and a config, signed with an OpenSSF model.sig (keyless,
minted with a private trust root, so nothing touches the network). Rows: one hashlib SHA-256 pass
(1 MiB reads), `mlsbom verify`, and `mlsbom scan` (analysis and verification in one pass).
Best wall time of N warm-cache runs, peak RSS of the child.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "fixtures"))
import signing_mint as mint  # noqa: E402
from bigfiles import MIB, safetensors_file  # noqa: E402
from sbom_bench import HASH, measure  # noqa: E402

from mlsbom.digests import sha256_file  # noqa: E402

IDENTITY = ("bench@example.com", "https://issuer.example")


def sign(folder: Path, root_path: Path) -> None:
    """A keyless model.sig over the folder, digests streamed (never the whole file in memory)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != "model.sig")
    resources = [{"name": p.name, "algorithm": "sha256", "digest": sha256_file(p)} for p in files]
    sigstore = mint.PrivateSigstore()
    sigstore.write_root(root_path)
    payload = mint.oms_statement(folder, resources=resources)
    mint.write_json(folder / "model.sig", sigstore.keyless_dsse(payload, *IDENTITY))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mlsbom-bench-verify"))
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder: Path = args.dir / "model"
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "model.safetensors"
    if not weights.exists():
        safetensors_file(weights, int(args.gb * 1024) * MIB)
    (folder / "config.json").write_text('{"model_type": "llama"}')
    root = args.dir / "trusted_root.json"
    sign(folder, root)
    trust = ["--trusted-root", str(root), "--identity", IDENTITY[0], "--issuer", IDENTITY[1]]
    cli = [sys.executable, "-m", "mlsbom"]
    commands = {
        "hashlib sha256 pass (1 MiB reads)": [sys.executable, "-c", HASH, str(HERE), str(weights)],
        "mlsbom verify": [*cli, "verify", str(folder), *trust],
        "mlsbom scan (scan + verify)": [*cli, "scan", str(folder), *trust],
    }
    check = subprocess.run(commands["mlsbom verify"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise SystemExit(f"verification failed:\n{check.stdout}{check.stderr}")
    subprocess.run(commands["hashlib sha256 pass (1 MiB reads)"], check=True)  # warm the cache
    rows = []
    for name, cmd in commands.items():
        runs = [measure(cmd) for _ in range(args.runs)]
        rows.append((name, min(r[0] for r in runs), max(r[1] for r in runs)))
    size = weights.stat().st_size
    base = rows[0][1]
    print(f"{size / 1e9:.2f} GB signed model (keyless model.sig), best of {args.runs}, warm cache")
    print(f"| {'command':<36} | wall s | x hashlib | peak RSS MB |")
    print(f"|{'-' * 38}|-------:|----------:|------------:|")
    for name, wall, rss in rows:
        print(f"| {name:<36} | {wall:6.2f} | {wall / base:9.2f} | {rss:11.0f} |")


if __name__ == "__main__":
    main()
