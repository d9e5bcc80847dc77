"""Files that configs make a loader open: tokenizer files and weight shards.

transformers keeps a `*_file` entry of `tokenizer_config.json` (vocab_file, merges_file,
tokenizer_file, …) instead of the file it would resolve in the model folder, and joins every
shard name of a `*.index.json` weight map with the folder (`os.path.join` drops the folder for an
absolute name). Each such path becomes a `LoaderPath` fact; rules judge where it points.
"""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Inspector
from mlsbom.facts import Fact, LoaderPath
from mlsbom.loader_paths import loader_path

TOKENIZER_FILES = frozenset(
    {"tokenizer_config.json", "processor_config.json", "preprocessor_config.json"}
)
MAX_PATHS = 1000
# stale absolute paths from the saving machine (`/root/.cache/huggingface/…`) are common in real
# tokenizer configs; only the problems no library writes are reported for them
TOKENIZER_PROBLEMS = frozenset({"url", "escape", "special", "nul"})


def _tokenizer(name: str, data: dict[str, object]) -> list[LoaderPath]:
    return [
        loader_path("tokenizer", f"{name}:{key}", value)
        for key, value in list(data.items())[:MAX_PATHS]
        if isinstance(key, str) and key.endswith("_file") and isinstance(value, str) and value
    ]


def _shards(name: str, data: dict[str, object]) -> list[LoaderPath]:
    weight_map = data.get("weight_map")
    if not isinstance(weight_map, dict):
        return []
    shards = {v for v in list(weight_map.values())[: MAX_PATHS * 100] if isinstance(v, str)}
    return [loader_path("shard-index", f"{name}:weight_map", s) for s in sorted(shards)[:MAX_PATHS]]


def _inspect(name: str, value: object) -> Analysis:
    if not isinstance(value, dict):
        return Analysis()
    found = _shards(name, value) if name.endswith(".index.json") else _tokenizer(name, value)
    facts: list[Fact] = [
        f
        for f in found
        if f.problem != "inside" and (f.source != "tokenizer" or f.problem in TOKENIZER_PROBLEMS)
    ]
    return Analysis(facts)


JSON_INSPECTORS: tuple[Inspector, ...] = (
    Inspector(lambda n: n in TOKENIZER_FILES or n.endswith(".index.json"), _inspect),
)
