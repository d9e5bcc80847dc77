"""Read the Keras configs and the outward references of an HDF5 file in a child process.

    python -m mlsbom.analyzers._h5_probe PATH   ->  JSON on stdout

h5py parses the file's metadata (it is not built for hostile files, hence the child process);
nothing is deserialised, no dataset is read, and links are listed without being resolved, so an
external link never makes h5py open the file it names. Reported references: external links,
soft links, datasets with external raw storage and virtual datasets whose sources are in other
files, each with its object name and target; at most MAX_OBJECTS links are visited.
"""

from __future__ import annotations

import json
import sys

MAX_ATTR = 16 << 20
MAX_OBJECTS = 100_000
MAX_REFERENCES = 1000


def _references(f: object) -> tuple[list[list[str]], bool]:
    import h5py

    assert isinstance(f, h5py.File)
    refs: list[list[str]] = []
    visited = 0

    def visit(name: str, link: object) -> object:
        nonlocal visited
        visited += 1
        if visited > MAX_OBJECTS:
            return True  # stops the visit
        if isinstance(link, h5py.ExternalLink):
            refs.append(["external-link", name, f"{link.filename}:{link.path}"])
        elif isinstance(link, h5py.SoftLink):
            refs.append(["soft-link", name, link.path])
        elif isinstance(link, h5py.HardLink):
            _dataset(f, name, refs)
        return None if len(refs) < MAX_REFERENCES else True

    f.visititems_links(visit)
    return refs, visited > MAX_OBJECTS


def _dataset(f: object, name: str, refs: list[list[str]]) -> None:
    import h5py

    obj = f.get(name, getlink=False)  # type: ignore[attr-defined]
    if not isinstance(obj, h5py.Dataset):
        return
    for entry in obj.external or ():
        refs.append(["external-storage", name, str(entry[0])])
    if obj.is_virtual:
        for source in obj.virtual_sources()[:MAX_REFERENCES]:
            if source.file_name != ".":
                refs.append(["virtual-source", name, f"{source.file_name}:{source.dset_name}"])


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
        out["references"], out["truncated"] = _references(f)
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
