"""`.pth` path files read the way CPython's `site.addpackage` reads them, in every version.

3.11/3.12: text in the locale encoding (no BOM stripping), universal newlines (`\\n`, `\\r`,
`\\r\\n`); a line starting exactly with `import ` or `import\\t` is `exec`ed, `#` lines and blank
lines are skipped, anything else is a path. 3.13+: the bytes are decoded as `utf-8-sig` (a BOM
is dropped) with a locale fallback and split with `str.splitlines()` (also at `\\v`, `\\f`,
`\\x1c` to `\\x1e`, `\\x85`, U+2028, U+2029); dot files are skipped. A line any of them would
execute is reported; leading whitespace means no version executes it.
"""

from __future__ import annotations

import re

from mlsbom.analyzers.base import Job
from mlsbom.facts import Fact, LimitExceeded

MAX_PTH_BYTES = 1 << 20
MAX_LINES_REPORTED = 50
_UNIVERSAL = re.compile(r"\r\n|\r|\n")
_MODULE = re.compile(r"import[ \t]+([A-Za-z_][\w.]*)")
_EXEC_PREFIX = ("import ", "import\t")


def executed_lines(raw: bytes) -> list[tuple[int, str]]:
    """(1-based line number, text) of every line some Python version's site.py would exec."""
    text = raw.decode("utf-8", "surrogateescape")  # locale decoders agree on the ASCII prefix
    found: dict[str, int] = {}
    for splitter in (_UNIVERSAL.split, str.splitlines):
        for n, line in enumerate(splitter(text), 1):
            candidates = [line]
            if n == 1 and line.startswith("\ufeff"):
                candidates.append(line[1:])  # 3.13 decodes utf-8-sig
            for cand in candidates:
                if cand.startswith(_EXEC_PREFIX) and cand not in found:
                    found[cand] = n
    return sorted(((n, line) for line, n in found.items()), key=lambda x: x[0])


def pth_facts(job: Job) -> list[Fact]:
    """PthCode facts for a text `.pth` file (read whole, bounded)."""
    from mlsbom.facts import PthCode

    with job.source.open() as f:
        raw = f.read(MAX_PTH_BYTES + 1)
    facts: list[Fact] = []
    if len(raw) > MAX_PTH_BYTES:
        facts.append(LimitExceeded("pth-bytes", MAX_PTH_BYTES))
        raw = raw[:MAX_PTH_BYTES]
    for n, line in executed_lines(raw)[:MAX_LINES_REPORTED]:
        module = _MODULE.match(line)
        facts.append(PthCode(n, line.strip()[:200], module.group(1) if module else ""))
    return facts
