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
    }


def item_from_json(doc: dict[str, Any]) -> WalkItem:
    ref = _load_as(ArtifactRef, doc["ref"])
    path = doc["path"]
    source = FileSource(Path(path), doc["size"]) if isinstance(path, str) else None
    facts = tuple(load_fact(f) for f in doc["facts"])
    fmt = Format(doc["format"]) if doc["format"] else None
    return WalkItem(ref, source, doc["size"], facts, fmt)


def config_to_json(config: ScanConfig) -> dict[str, Any]:
    return {"limits": dump(config.limits), "explain": config.explain}


def main() -> int:
    from mlsbom.rules import load_rules

    rules = load_rules()
    first = sys.stdin.readline()
    if not first:
        return 0
    doc = json.loads(first)
    config = ScanConfig(limits=_load_as(Limits, doc["limits"]), explain=bool(doc["explain"]))
    cap_address_space(config.limits.max_address_space)
    for line in sys.stdin:
        item = item_from_json(json.loads(line))
        sys.stdout.write(_answer(item, config, rules) + "\n")
        sys.stdout.flush()
    return 0


def _answer(item: WalkItem, config: ScanConfig, rules: RuleSet) -> str:
    """The JSON line for one file; running out of address space while scanning it or writing
    the answer is a `memory` limit finding on that file, as in the CLI process (never a crash
    that leaves the parent to guess)."""
    from mlsbom.budget import out_of_memory
    from mlsbom.engine import _scan_file

    try:
        return json.dumps(dump(_scan_file(item, config, rules)))
    except MemoryError:
        return json.dumps(dump([out_of_memory(item.ref, item.size, config.limits, rules)]))


if __name__ == "__main__":
    raise SystemExit(main())
