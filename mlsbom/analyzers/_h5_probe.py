"""Read the Keras configs of an HDF5 file in a child process (h5py is not built for hostile files).

    python -m mlsbom.analyzers._h5_probe PATH   ->  JSON on stdout

Only root attributes are read; no dataset is touched and nothing is deserialised.
"""

from __future__ import annotations

import json
import sys

MAX_ATTR = 16 << 20


def main(path: str) -> int:
    import h5py

    out: dict[str, object] = {}
    with h5py.File(path, "r") as f:
        for key in ("model_config", "training_config", "keras_version", "backend"):
            if key not in f.attrs:
                continue
            value = f.attrs[key]
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            if isinstance(value, str):
                out[key] = value[:MAX_ATTR]
        out["groups"] = len(f.keys())
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
