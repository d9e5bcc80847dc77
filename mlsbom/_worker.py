"""A scan worker process (`python -m mlsbom._worker`): JSON lines in, JSON lines out.

The first line is the configuration (limits, explain); each further line is one walked file,
answered by one line holding the dumped results of that file and its members. JSON, not pickle:
nothing that crosses the pipe can run code when it is read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsbom.config import Limits, ScanConfig, cap_address_space
from mlsbom.models import ArtifactRef, Format
from mlsbom.serial import _load_as, dump, load_fact
from mlsbom.sources import FileSource
from mlsbom.walk import WalkItem

if TYPE_CHECKING:
    from mlsbom.result_cache import ResultCache
    from mlsbom.rules import RuleSet


def item_to_json(item: WalkItem) -> dict[str, Any]:
    source = item.source
    assert source is None or isinstance(source, FileSource)
    return {
        "ref": dump(item.ref),
        "path": str(source.path) if source is not None else None,
        "size": item.size,
        "facts": dump(item.facts),
        "format": item.format.value if item.format else None,
        "identity": list(item.identity) if item.identity else None,
    }


def item_from_json(doc: dict[str, Any]) -> WalkItem:
    ref = _load_as(ArtifactRef, doc["ref"])
    path = doc["path"]
    source = FileSource(Path(path), doc["size"]) if isinstance(path, str) else None
    facts = tuple(load_fact(f) for f in doc["facts"])
    fmt = Format(doc["format"]) if doc["format"] else None
    ident = doc.get("identity")
    identity = _load_as(tuple[int, int, int, int, int], ident) if ident else None
    return WalkItem(ref, source, doc["size"], facts, fmt, identity)


def config_to_json(config: ScanConfig) -> dict[str, Any]:
    return {"limits": dump(config.limits), "explain": config.explain, "cache": config.cache}


def main(argv: list[str] | None = None) -> int:
    """Serve files until stdin closes; end with the parent whose pid is the first argument."""
    from mlsbom.lifetime import die_with_parent

    args = sys.argv[1:] if argv is None else argv
    if args and args[0].isdigit():
        die_with_parent(int(args[0]))
    from mlsbom.result_cache import open_cache
    from mlsbom.rules import load_rules

    rules = load_rules()
    first = sys.stdin.readline()
    if not first:
        return 0
    doc = json.loads(first)
    limits = _load_as(Limits, doc["limits"])
    config = ScanConfig(limits=limits, explain=bool(doc["explain"]), cache=bool(doc.get("cache")))
    store = open_cache(config) if config.cache else None  # the parent checked it is usable
    cap_address_space(config.limits.max_address_space)
    for line in sys.stdin:
        item = item_from_json(json.loads(line))
        sys.stdout.write(_answer(item, config, rules, store) + "\n")
        sys.stdout.flush()
    return 0


def _answer(item: WalkItem, config: ScanConfig, rules: RuleSet, store: ResultCache | None) -> str:
    """The JSON line for one file; running out of address space while scanning it or writing
    the answer is a `memory` limit finding on that file, as in the CLI process (never a crash
    that leaves the parent to guess)."""
    from mlsbom.budget import out_of_memory
    from mlsbom.engine import _scan_file

    try:
        return json.dumps(dump(_scan_file(item, config, rules, store)))
    except MemoryError:
        return json.dumps(dump([out_of_memory(item.ref, item.size, config.limits, rules)]))


if __name__ == "__main__":
    raise SystemExit(main())
