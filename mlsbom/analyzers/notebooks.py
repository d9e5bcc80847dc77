"""Jupyter notebooks: shell escapes and magics, and the Python checks on every code cell."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import ClassVar

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.analyzers.python_code import (
    PythonSideEffect,
    PythonSyntaxError,
    python_facts,
    read_text,
)
from mlsbom.facts import Fact, LimitExceeded, ParseError
from mlsbom.models import Format

MAX_NOTEBOOK = 16 << 20
MAX_CELLS = 5_000
_SHELL_CELL = re.compile(r"^%%(bash|sh|script|system|zsh|powershell|cmd)\b")
_SHELL_LINE = re.compile(r"^\s*(!!?|%(system|sx|sc)\b)\s*(.*)$")
_FETCH_EXEC = re.compile(r"\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da)?sh\b|\b(ba)?sh\s+<\(")


@dataclass(frozen=True, slots=True)
class ShellEscape(Fact):
    """A notebook cell runs a shell command (`!cmd`, `%%bash`, `%system`)."""

    kind: ClassVar[str] = "notebook-shell"
    command: str
    fetch_and_run: bool  # curl/wget piped into a shell
    cell: int
    line: int


def _source(cell: dict[str, object]) -> str | None:
    src = cell.get("source")
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    return src if isinstance(src, str) else None


def cell_facts(source: str, index: int) -> list[Fact]:
    """Shell escapes of one code cell, then the Python checks on what is left."""
    lines = source.splitlines()
    facts: list[Fact] = []
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        if _SHELL_CELL.match(first):
            body = "\n".join(lines[1:])
            facts.append(ShellEscape(body[:300], bool(_FETCH_EXEC.search(body)), index, 1))
        return facts  # other cell magics (%%time, %%capture) hold Python only sometimes: skip
    python_lines = []
    for n, line in enumerate(lines, 1):
        shell = _SHELL_LINE.match(line)
        if shell:
            command = shell.group(3)
            facts.append(ShellEscape(command[:300], bool(_FETCH_EXEC.search(command)), index, n))
            python_lines.append("")
        elif line.lstrip().startswith("%"):
            python_lines.append("")  # other line magics
        else:
            python_lines.append(line)
    code = python_facts("\n".join(python_lines), cell=index)
    # IPython syntax is not an error; top-level calls are what cells are for (a person runs them,
    # nothing imports them), so only the dangerous-call and obfuscation checks apply
    facts.extend(f for f in code if not isinstance(f, PythonSyntaxError | PythonSideEffect))
    return facts


class NotebookAnalyzer:
    formats: tuple[Format, ...] = (Format.NOTEBOOK,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        if hint.name.lower().endswith(".ipynb"):
            return Format.NOTEBOOK
        start = head.lstrip()[:1]
        if start == b"{" and b'"cells"' in head and b'"nbformat"' in head:
            return Format.NOTEBOOK
        return None

    def analyze(self, job: Job) -> Analysis:
        text, facts = read_text(job, MAX_NOTEBOOK)
        if text is None:
            return Analysis(facts)
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            return Analysis([ParseError(f"notebook is not valid JSON: {type(exc).__name__}")])
        cells = doc.get("cells") if isinstance(doc, dict) else None
        if not isinstance(cells, list):
            return Analysis([ParseError("notebook has no list of cells")])
        if len(cells) > MAX_CELLS:
            facts.append(LimitExceeded("notebook-cells", MAX_CELLS, len(cells)))
            cells = cells[:MAX_CELLS]
        for index, cell in enumerate(cells):
            if not isinstance(cell, dict):
                facts.append(ParseError(f"cell {index} is not an object"))
                continue
            if cell.get("cell_type") != "code":
                continue
            source = _source(cell)
            if source is None:
                facts.append(ParseError(f"cell {index} has no readable source"))
                continue
            facts.extend(cell_facts(source, index))
        return Analysis(facts)
