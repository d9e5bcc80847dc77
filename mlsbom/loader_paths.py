"""Paths a loader opens because metadata names them, and where they point.

ONNX external data, Keras vocabularies and lookup tables, tokenizer files named in
`tokenizer_config.json`, shard names in `*.index.json`: a loader joins them with the model folder
(or the working directory) and opens them. `path_problem` classifies such a path the way
`os.path.join` and the operating system would treat it, without touching the file system.
"""

from __future__ import annotations

import re

from mlsbom.facts import LoaderPath

SPECIAL_PREFIXES = ("/dev/", "/proc/", "/sys/")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_DRIVE = re.compile(r"^[A-Za-z]:")
ESCAPING = ("absolute", "url", "escape", "special", "windows", "nul", "home")


def path_problem(path: str) -> str:
    """Where `path` points relative to the folder a loader joins it with."""
    if "\x00" in path:
        return "nul"  # C loaders stop at the NUL: the path they open is not the one shown
    if _URL.match(path):
        return "url"
    if path.startswith(("\\\\", "//", "\\/", "/\\")) or _DRIVE.match(path):
        return "windows"  # UNC share or drive letter
    normal = path.replace("\\", "/")
    if normal.startswith(SPECIAL_PREFIXES) or normal in ("/dev", "/proc", "/sys"):
        return "special"
    if normal.startswith("/"):
        return "absolute"
    if normal.startswith("~"):
        return "home"
    depth = 0
    for part in normal.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return "escape"
        elif part not in ("", "."):
            depth += 1
    return "inside"


def shown(path: str, limit: int = 300) -> str:
    """The path for reports: control characters escaped, cut at `limit`."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", path[:limit])


def loader_path(source: str, key: str, path: str) -> LoaderPath:
    """The fact for `path`, named at `key` of `source` metadata."""
    return LoaderPath(source, shown(key, 200), shown(path), path_problem(path))
