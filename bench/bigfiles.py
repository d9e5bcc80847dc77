"""Large benchmark artefacts built without torch: safetensors, PyTorch zip and legacy, many files.

Content is a repeated pseudo-random 1 MiB block (hashing cost does not depend on content), written
for real (not sparse) so reads go through the page cache like a real checkpoint's.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import struct
import zipfile
from pathlib import Path

MIB = 1 << 20
_BLOCK = random.Random(0).randbytes(MIB)


def _fill(f: io.BufferedWriter | zipfile.ZipExtFile | object, nbytes: int) -> None:
    write = f.write  # type: ignore[attr-defined]
    for _ in range(nbytes // MIB):
        write(_BLOCK)
    write(_BLOCK[: nbytes % MIB])


def safetensors_file(path: Path, nbytes: int) -> Path:
    """One F32 tensor filling `nbytes` of data (rounded down to 4 bytes)."""
    n = nbytes // 4
    header = {
        "__metadata__": {"format": "pt"},
        "w": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]},
    }
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        _fill(f, 4 * n)
    return path


def _state_dict_pickle(storage_bytes: int) -> bytes:
    """A data.pkl shaped like torch.save's: OrderedDict of _rebuild_tensor_v2 over one storage."""
    body = (
        b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x06\x00\x00\x00weightq\x02"
        b"ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04"
        b"ctorch\nFloatStorage\nq\x05X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07"
        + b"J"
        + struct.pack("<i", storage_bytes // 4)
        + b"tq\x08QK\x00J"
        + struct.pack("<i", storage_bytes // 4)
        + b"\x85q\tK\x01\x85q\n\x89ccollections\nOrderedDict\nq\x0b)Rq\x0ctq\rRq\x0es."
    )
    return body


def torch_zip(path: Path, nbytes: int) -> Path:
    """A PyTorch zip checkpoint: archive/data.pkl, archive/version and one stored storage."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr("archive/data.pkl", _state_dict_pickle(nbytes))
        z.writestr("archive/byteorder", "little")
        with z.open("archive/data/0", "w", force_zip64=True) as member:
            _fill(member, nbytes)
        z.writestr("archive/version", "3\n")
    return path


def torch_legacy(path: Path, nbytes: int) -> Path:
    """Legacy torch.save: magic, protocol, sys info, the state dict, storage keys, raw storage."""
    with open(path, "wb") as f:
        for obj in (
            0x1950A86A20F9469CFC6C,
            1001,
            {
                "protocol_version": 1001,
                "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4},
            },
        ):
            f.write(pickle.dumps(obj, protocol=2))
        f.write(_state_dict_pickle(nbytes))
        f.write(pickle.dumps(["0"], protocol=2))
        f.write(struct.pack("<q", nbytes // 4))
        _fill(f, nbytes)
    return path


def many_files(folder: Path, count: int) -> Path:
    """A folder of small JSON, text and safetensors files."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        kind = i % 3
        if kind == 0:
            (folder / f"config_{i}.json").write_text(json.dumps({"i": i, "model_type": "bert"}))
        elif kind == 1:
            (folder / f"notes_{i}.txt").write_text(f"file {i}\n" * 20)
        else:
            safetensors_file(folder / f"w_{i}.safetensors", 4096)
    return folder


def sha256_pass(paths: list[Path]) -> None:
    """The yardstick: one streaming hashlib SHA-256 pass in 1 MiB reads."""
    import hashlib

    buf = bytearray(MIB)
    for p in paths:
        h = hashlib.sha256()
        with open(p, "rb", buffering=0) as f:
            while n := f.readinto(buf):
                h.update(memoryview(buf)[:n])


def sha256_parallel(paths: list[Path], workers: int | None = None) -> list[str]:
    """The machine's limit: a thread per core, one file per worker, 1 MiB reads (hashlib
    releases the GIL on updates this large, so threads hash in parallel)."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    def one(path: Path) -> str:
        h = hashlib.sha256()
        buf = bytearray(MIB)
        view = memoryview(buf)
        with open(path, "rb", buffering=0) as f:
            while n := f.readinto(buf):
                h.update(view[:n])
        return h.hexdigest()

    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        return list(pool.map(one, paths))


if __name__ == "__main__":
    out = Path(os.environ.get("OUT", "/tmp/mlsbom-bench"))
    out.mkdir(exist_ok=True)
    print(safetensors_file(out / "model.safetensors", 64 * MIB))


def weights_folder_args(description: str) -> tuple[Path, Path, int]:
    """Parse --dir/--gb/--runs and make (once) a folder with a GB-sized safetensors file and a
    half-sized PyTorch zip: (safetensors path, zip path, runs)."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/mlsbom-bench-sbom"))
    parser.add_argument("--gb", type=float, default=2.0, help="size of the safetensors file")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder: Path = args.dir
    folder.mkdir(parents=True, exist_ok=True)
    st, pt = folder / "model.safetensors", folder / "pytorch_model.bin"
    if not st.exists():
        safetensors_file(st, int(args.gb * 1024) * MIB)
    if not pt.exists():
        torch_zip(pt, int(args.gb * 512) * MIB)
    return st, pt, int(args.runs)
